// Actor-to-actor requests for gossip and fork moves: one request channel (store/client/request_channel.ts)
// per peer endpoint, speaking the store envelope to the peer's ROUTER, with no retries of its own.
import type { Reply } from '../../schemas/envelope.js';
import { RequestChannel } from './request_channel.js';

export class PeerTimeout extends Error {}
/** The connection to the peer dropped while the request waited for its reply: it will never come. */
export class PeerDisconnected extends Error {}

export interface PeerLinkOptions {
  /** CURVE: the members' public key (z85), when the members serve CURVE (they share one key pair). */
  curveServerKey?: string;
}

export class PeerLink {
  private readonly channels = new Map<string, RequestChannel>();
  private closed = false;

  constructor(private readonly opts: PeerLinkOptions = {}) {}

  /** Sends one request and waits for its reply; rejects with PeerTimeout after `timeoutMs`, PeerDisconnected when the connection drops first. */
  request(endpoint: string, cmd: string, body: Buffer, timeoutMs: number): Promise<Reply> {
    if (this.closed) return Promise.reject(new Error('peer link is closed'));
    try {
      return this.channel(endpoint).request(cmd, body, timeoutMs);
    } catch (err) {
      // ZeroMQ refuses a malformed endpoint at connect time ("Invalid argument"): a failed request like any other.
      return Promise.reject(new PeerTimeout(`${cmd} to ${JSON.stringify(endpoint)} could not be sent: ${(err as Error).message}`));
    }
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
    for (const channel of this.channels.values()) channel.close(new Error('peer link closed'));
    this.channels.clear();
  }

  private channel(endpoint: string): RequestChannel {
    let channel = this.channels.get(endpoint);
    if (channel) return channel;
    channel = new RequestChannel(endpoint, {
      // One request per message: peer traffic is sparse (gossip) or large (move chunks), so bundling would
      // only copy, and the actor answers such a peer one reply per message.
      maxBundle: 1,
      // sendTimeout 0 and a bounded queue: a dead peer costs dropped frames, never a stuck sender.
      sendHighWaterMark: 2000,
      sendTimeout: 0,
      // Retry a peer that is down every 50 ms, not ZeroMQ's default 100: gossip periods are tens of ms.
      reconnectInterval: 50,
      curveServerKey: this.opts.curveServerKey,
      timeoutError: (cmd, ms) => new PeerTimeout(`${cmd} to ${endpoint} got no reply within ${ms} ms`),
      // A fork move waits long for some replies (the target's digest) with the fork fenced: a target that died or
      // restarted meanwhile must end that wait now, not when it times out.
      disconnectError: () => new PeerDisconnected(`the connection to ${endpoint} dropped before the reply came`),
    });
    this.channels.set(endpoint, channel);
    return channel;
  }
}
