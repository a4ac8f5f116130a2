// Actor-to-actor requests for gossip and fork moves: one DEALER per peer endpoint, speaking the store envelope
// (schemas/store.ts) to the peer's ROUTER, with request ids, per-request timeouts and no retries of its own.
import { Dealer } from 'zeromq';
import { encodeRequest, repliesIn, type Reply } from '../../schemas/envelope.js';

interface Pending { resolve: (r: Reply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
interface Link { sock: Dealer; pending: Map<number, Pending>; sending: Promise<void> }

export class PeerTimeout extends Error {}

export class PeerLink {
  private readonly links = new Map<string, Link>();
  private nextId = 1;
  private closed = false;

  /** Sends one request and waits for its reply; rejects with PeerTimeout after `timeoutMs`. */
  request(endpoint: string, cmd: string, body: Buffer, timeoutMs: number): Promise<Reply> {
    if (this.closed) return Promise.reject(new Error('peer link is closed'));
    const link = this.link(endpoint);
    const id = this.nextId++;
    const frame = encodeRequest({ id, cmd, epoch: 0, body });
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        link.pending.delete(id);
        reject(new PeerTimeout(`${cmd} to ${endpoint} got no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      link.pending.set(id, { resolve, reject, timer });
      // zeromq.js allows one send in flight per socket, so sends are chained; a full queue (peer gone) drops the
      // frame and the timeout reports it.
      link.sending = link.sending.then(() => link.sock.send(frame)).catch(() => {});
    });
  }

  /** Fire-and-forget: a failed or unanswered request only resolves to null. */
  async tryRequest(endpoint: string, cmd: string, body: Buffer, timeoutMs: number): Promise<Reply | null> {
    try {
      return await this.request(endpoint, cmd, body, timeoutMs);
    } catch {
      return null;
    }
  }

  close(): void {
    this.closed = true;
    for (const l of this.links.values()) {
      for (const p of l.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error('peer link closed'));
      }
      l.sock.close();
    }
    this.links.clear();
  }

  private link(endpoint: string): Link {
    let l = this.links.get(endpoint);
    if (l) return l;
    // sendTimeout 0 + a bounded queue: a dead peer costs dropped frames, never a stuck sender.
    const sock = new Dealer({ linger: 0, sendTimeout: 0, sendHighWaterMark: 2000, reconnectInterval: 50 });
    sock.connect(endpoint);
    l = { sock, pending: new Map(), sending: Promise.resolve() };
    this.links.set(endpoint, l);
    void this.receive(l);
    return l;
  }

  private async receive(l: Link): Promise<void> {
    try {
      for await (const frames of l.sock) {
        // A frame may hold several Replies back to back (the actor bundles replies to peers that bundle).
        for (const frame of frames) {
          for (const rep of repliesIn(frame)) {
            const p = l.pending.get(rep.id);
            if (!p) continue;
            l.pending.delete(rep.id);
            clearTimeout(p.timer);
            p.resolve(rep);
          }
        }
      }
    } catch {
      // socket closed
    }
  }
}
