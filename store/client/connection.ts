// One client connection to one store actor: a DEALER socket with many requests in flight,
// matched to replies by request id, each with its own timeout.
import zmq from 'zeromq';
import { encodeRequest, repliesIn, type Reply } from '../../schemas/envelope.js';
import { SendSignal } from '../protocol/send_signal.js';

export class TimeoutError extends Error {
  constructor(
    readonly endpoint: string,
    readonly cmd: string,
    readonly ms: number,
  ) {
    super(`store request ${cmd} to ${endpoint} got no reply within ${ms} ms (actor down or overloaded?)`);
  }
}

interface Waiter {
  resolve: (r: Reply) => void;
  reject: (e: Error) => void;
  cmd: string;
  deadline: number;
  timeoutMs: number;
}

/** Requests per bundle (one frame); see sendLoop. */
const BUNDLE_MAX_REQUESTS = 128;

let nextId = 1;

/** Request ids are unique per client process (0 is reserved for replies to undecodable frames). */
export function newRequestId(): number {
  const id = nextId;
  nextId = nextId >= Number.MAX_SAFE_INTEGER ? 1 : nextId + 1;
  return id;
}

export interface ConnectionOptions {
  /**
   * CURVE: the actors' public key (z85; default: env DBSLM_STORE_CURVE_PUBLIC, the key members are
   * started with). The client generates its own key pair.
   */
  curveServerKey?: string;
}

export class Connection {
  private readonly sock: zmq.Dealer;
  private readonly waiters = new Map<number, Waiter>();
  private readonly queue: Buffer[] = [];
  private readonly signal = new SendSignal();
  private sweeper: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    readonly endpoint: string,
    opts: ConnectionOptions = {},
  ) {
    this.sock = new zmq.Dealer({ linger: 0, sendHighWaterMark: 100000, receiveHighWaterMark: 100000 });
    const serverKey = opts.curveServerKey ?? process.env.DBSLM_STORE_CURVE_PUBLIC;
    if (serverKey) {
      const kp = zmq.curveKeyPair();
      this.sock.curveServerKey = serverKey;
      this.sock.curvePublicKey = kp.publicKey;
      this.sock.curveSecretKey = kp.secretKey;
    }
    this.sock.connect(endpoint);
    void this.receiveLoop();
    void this.sendLoop();
  }

  get inFlight(): number {
    return this.waiters.size;
  }

  /** Send one request; resolves with its reply (any code), rejects on timeout or close. */
  request(cmd: string, body: Buffer, timeoutMs: number, epoch = 0): Promise<Reply> {
    if (this.closed) return Promise.reject(new Error(`connection to ${this.endpoint} is closed`));
    const id = newRequestId();
    return new Promise<Reply>((resolve, reject) => {
      // One sweeping timer per connection, not one timer per request (timers cost more than a get).
      this.waiters.set(id, { resolve, reject, cmd, deadline: performance.now() + timeoutMs, timeoutMs });
      if (!this.sweeper) this.sweeper = setInterval(() => this.sweep(), Math.max(10, Math.min(100, timeoutMs / 4)));
      this.queue.push(encodeRequest({ id, cmd, epoch, body }));
      // Send after this event-loop turn: requests issued in one burst leave as one bundle.
      this.signal.afterTurn();
    });
  }

  private async sendLoop(): Promise<void> {
    while (!this.closed) {
      if (!this.queue.length) {
        await this.signal.wait();
        continue;
      }
      // Bundle queued requests into one frame, back to back (the actor replies likewise); bounded, so
      // the actor can commit and ack part of a long burst while the rest is still arriving. 128, not
      // 512: 256 pipelined gets used to leave as one bundle, so client and actor took turns (actor
      // event loop ~50% busy); in two bundles each side works on one while the other is away
      // (measured ~100k -> ~150-160k gets/s at 256 in flight). Keep it >= the actor's commit-early
      // threshold of 64 requests per message, or the acks wait for the end of the actor's turn.
      let n = 0;
      let bytes = 0;
      while (n < this.queue.length && n < BUNDLE_MAX_REQUESTS && bytes < 4 * 1024 * 1024) bytes += this.queue[n++]!.length;
      const msg = n === 1 ? this.queue.shift()! : Buffer.concat(this.queue.splice(0, n), bytes);
      try {
        await this.sock.send(msg);
      } catch {
        if (this.closed) return;
      }
    }
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (const frames of this.sock) {
        for (const frame of frames) {
          for (const rep of repliesIn(frame)) {
            const w = this.waiters.get(rep.id);
            if (!w) continue; // late reply to a request that already timed out
            this.waiters.delete(rep.id);
            w.resolve(rep);
          }
        }
      }
    } catch (err) {
      if (!this.closed) this.failAll(err as Error);
    }
  }

  private sweep(): void {
    const now = performance.now();
    for (const [id, w] of this.waiters) {
      if (w.deadline > now) continue;
      this.waiters.delete(id);
      w.reject(new TimeoutError(this.endpoint, w.cmd, w.timeoutMs));
    }
    if (!this.waiters.size && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  }

  private failAll(err: Error): void {
    for (const [id, w] of this.waiters) {
      w.reject(err);
      this.waiters.delete(id);
    }
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new Error(`connection to ${this.endpoint} closed`));
    this.signal.now();
    this.sock.close();
  }
}
