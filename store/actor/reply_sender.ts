// The reply side of an actor's ROUTER socket. ZeroMQ allows one send at a time, so one loop sends
// everything queued. It wakes after the current event-loop turn (so the replies of a burst leave
// together) or at once after a commit; replies to a peer that bundles its requests leave back to
// back in one frame.
import type zmq from 'zeromq';
import { SendSignal } from '../protocol/send_signal.js';

export class ReplySender {
  private queue: Buffer[][] = [];
  private readonly bundling = new Set<string>();
  private readonly signal = new SendSignal();
  private stopping = false;

  constructor(private readonly router: zmq.Router) {}

  get queued(): number {
    return this.queue.length;
  }

  /** This peer sent several requests in one message: it reads bundled replies. */
  markBundling(peer: Buffer): void {
    this.bundling.add(peer.toString('latin1'));
  }

  push(peer: Buffer, buf: Buffer): void {
    this.queue.push([peer, buf]);
    this.signal.afterTurn();
  }

  /** Send what is queued without waiting for the end of the turn (a commit released a group). */
  wakeNow(): void {
    this.signal.now();
  }

  /** Finish sending what is queued, then end `run`. */
  stop(): void {
    this.stopping = true;
    this.wakeNow();
  }

  async run(): Promise<void> {
    for (;;) {
      if (!this.queue.length) {
        if (this.stopping) return;
        await this.signal.wait();
        continue;
      }
      const round = this.queue.splice(0, 8192);
      const bundles = new Map<string, Buffer[]>();
      const out: Buffer[][] = [];
      for (const [peer, buf] of round) {
        const k = peer!.toString('latin1');
        if (!this.bundling.has(k)) {
          out.push([peer!, buf!]);
          continue;
        }
        const b = bundles.get(k);
        if (b) b.push(buf!);
        else bundles.set(k, [peer!, buf!]);
      }
      for (const b of bundles.values()) out.push(b.length > 2 ? [b[0]!, Buffer.concat(b.slice(1))] : b);
      for (const msg of out) {
        try {
          await this.router.send(msg);
        } catch {
          if (this.router.closed) return;
          // A reply to a peer that vanished is dropped; the client retries by its own timeout.
        }
      }
    }
  }
}
