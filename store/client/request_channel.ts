// One DEALER socket to one store actor with many requests in flight, each matched to its reply by
// request id and failed on its own timeout. The store client (connection.ts) and the actors' links
// to each other (peer_link.ts) both talk through it and differ only in options: bundling, queue
// bounds, whether a full queue waits or drops, CURVE, and the error a timeout is reported as.
import zmq from 'zeromq';
import { encodeRequest, repliesIn, type Reply } from '../../schemas/envelope.js';
import { watchHandshakes, type SecurityMismatchError } from '../protocol/security_mismatch.js';
import { SendSignal } from '../protocol/send_signal.js';
import { PendingRequests } from './pending_requests.js';

let nextId = 1;

/** Request ids are unique per process, across channels (0 is reserved for replies to undecodable frames). */
export function newRequestId(): number {
  const id = nextId;
  nextId = nextId >= Number.MAX_SAFE_INTEGER ? 1 : nextId + 1;
  return id;
}

/** A bundle never grows past this many bytes, however many requests it may hold. */
const BUNDLE_MAX_BYTES = 4 * 1024 * 1024;

/**
 * Takes the next message off a send queue of encoded requests: the first one and as many of the
 * following as fit in `maxRequests` and BUNDLE_MAX_BYTES, back to back in one frame.
 */
export function takeBundle(queue: Buffer[], maxRequests: number): Buffer {
  let n = 0;
  let bytes = 0;
  while (n < queue.length && n < maxRequests && bytes < BUNDLE_MAX_BYTES) bytes += queue[n++]!.length;
  return n === 1 ? queue.shift()! : Buffer.concat(queue.splice(0, n), bytes);
}

export interface RequestChannelOptions {
  /** Requests per message at most; 1 sends each request as a message of its own. */
  maxBundle: number;
  /** Messages the socket queues before a send waits (or, with sendTimeout 0, fails). */
  sendHighWaterMark: number;
  receiveHighWaterMark?: number;
  /** 0: a send to a full queue fails at once and its message is dropped (the request then times out). Default: wait for room. */
  sendTimeout?: number;
  /** Milliseconds between reconnection attempts (ZeroMQ's default: 100). */
  reconnectInterval?: number;
  /** CURVE: the actors' public key (z85); the channel makes its own key pair. Without it the channel speaks plain. */
  curveServerKey?: string;
  /** The error a request that got no reply within its timeout fails with. */
  timeoutError: (cmd: string, timeoutMs: number) => Error;
  /**
   * When set, the requests in flight when the connection drops fail with this error at once instead of by timeout:
   * the peer's ROUTER routes each reply by the connection its request came on, so none of them can be answered any
   * more (a restarted peer never saw them; the same process, reconnected, would send their replies nowhere).
   */
  disconnectError?: () => Error;
  /**
   * Called when requests have waited `stallMs` with nothing heard from the actor meanwhile (and again every `stallMs`
   * while that lasts): the client then asks another member whether the actor is dead, rather than waiting out the
   * timeouts.
   */
  onStall?: () => void;
  stallMs?: number;
}

export class RequestChannel {
  private readonly sock: zmq.Dealer;
  private readonly pending = new PendingRequests();
  private readonly queue: Buffer[] = [];
  private readonly signal = new SendSignal();
  private sweeper: NodeJS.Timeout | null = null;
  private closed = false;
  /** When the actor was last heard from (a reply), or the channel opened. */
  private lastHeardAt = performance.now();
  private lastStallAt = -Infinity;
  /** Set while the actor refuses this channel's handshakes (CURVE against plain, another key pair): requests fail at once. */
  private securityMismatch: SecurityMismatchError | null = null;

  constructor(
    readonly endpoint: string,
    private readonly opts: RequestChannelOptions,
  ) {
    this.sock = new zmq.Dealer({
      linger: 0,
      sendHighWaterMark: opts.sendHighWaterMark,
      ...(opts.receiveHighWaterMark !== undefined && { receiveHighWaterMark: opts.receiveHighWaterMark }),
      ...(opts.sendTimeout !== undefined && { sendTimeout: opts.sendTimeout }),
      ...(opts.reconnectInterval !== undefined && { reconnectInterval: opts.reconnectInterval }),
    });
    if (opts.curveServerKey) {
      const own = zmq.curveKeyPair();
      this.sock.curveServerKey = opts.curveServerKey;
      this.sock.curvePublicKey = own.publicKey;
      this.sock.curveSecretKey = own.secretKey;
    }
    watchHandshakes(this.sock, endpoint, !!opts.curveServerKey, (err) => {
      this.securityMismatch = err;
      if (err) this.failAll(err);
    });
    this.sock.connect(endpoint);
    const disconnectError = opts.disconnectError;
    if (disconnectError) this.sock.events.on('disconnect', () => this.failAll(disconnectError()));
    void this.receiveLoop();
    void this.sendLoop();
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Send one request; resolves with its reply (any code), rejects on timeout or close. */
  request(cmd: string, body: Buffer, timeoutMs: number, epoch = 0): Promise<Reply> {
    if (this.closed) return Promise.reject(new Error(`connection to ${this.endpoint} is closed`));
    if (this.securityMismatch) return Promise.reject(this.securityMismatch);
    const id = newRequestId();
    return new Promise<Reply>((resolve, reject) => {
      const frame = encodeRequest({ id, cmd, epoch, body });
      this.pending.add(id, { resolve, reject, cmd, deadline: performance.now() + timeoutMs, timeoutMs });
      // One sweeping timer per channel, not one timer per request (timers cost more than a get).
      if (!this.sweeper) this.sweeper = setInterval(() => this.sweep(), Math.max(10, Math.min(100, timeoutMs / 4)));
      this.queue.push(frame);
      // A bundling channel sends after this event-loop turn, so that requests issued in one burst leave together;
      // one that sends each request alone has nothing to wait for.
      if (this.opts.maxBundle > 1) this.signal.afterTurn();
      else this.signal.now();
    });
  }

  /** Fails every pending request with `reason` (the actor is known to be gone); the channel stays open. */
  failPending(reason: Error): void {
    this.failAll(reason);
  }

  /** Fails every pending request with `reason` and closes the socket; later requests fail at once. */
  close(reason = new Error(`connection to ${this.endpoint} closed`)): void {
    if (this.closed) return;
    this.closed = true;
    this.failAll(reason);
    this.signal.now();
    this.sock.close();
  }

  /** ZeroMQ allows one send at a time per socket: this loop is the only sender. */
  private async sendLoop(): Promise<void> {
    while (!this.closed) {
      if (!this.queue.length) {
        await this.signal.wait();
        continue;
      }
      try {
        await this.sock.send(takeBundle(this.queue, this.opts.maxBundle));
      } catch {
        // Closed, or (sendTimeout 0) the queue to a gone peer is full: the message is dropped and its
        // requests time out.
        if (this.closed) return;
      }
    }
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (const frames of this.sock) {
        this.lastHeardAt = performance.now();
        // A frame may hold several Replies back to back (the actor bundles replies to bundling peers).
        for (const frame of frames) {
          for (const reply of repliesIn(frame)) this.pending.settle(reply.id)?.resolve(reply);
        }
      }
    } catch (err) {
      if (!this.closed) this.failAll(err as Error);
    }
  }

  private sweep(): void {
    const now = performance.now();
    for (const request of this.pending.expire(now)) request.reject(this.opts.timeoutError(request.cmd, request.timeoutMs));
    if (!this.pending.size) return this.stopSweeper();
    const stallMs = this.opts.stallMs;
    if (!this.opts.onStall || stallMs === undefined) return;
    const silentSince = Math.max(this.lastHeardAt, this.pending.oldestSentAt(), this.lastStallAt);
    if (now - silentSince < stallMs) return;
    this.lastStallAt = now;
    this.opts.onStall();
  }

  private failAll(err: Error): void {
    for (const request of this.pending.drain()) request.reject(err);
    this.stopSweeper();
  }

  private stopSweeper(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }
}
