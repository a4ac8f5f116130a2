// The reply side of an actor's ROUTER socket. ZeroMQ allows one send at a time, so one loop sends
// everything queued. It wakes after the current event-loop turn (so the replies of a burst leave
// together) or at once after a commit; replies to a peer that bundles its requests leave back to
// back in one frame (at most BUNDLE_MAX_BYTES each).
//
// What a peer that does not read can cost is bounded: ZeroMQ keeps at most REPLY_QUEUE_PER_PEER
// messages for each peer (the ROUTER's send high-water mark), and the ROUTER is `mandatory` with
// a send timeout of 0, so a send to a peer whose queue is full fails at once instead of waiting
// (which would stall every other peer) or vanishing silently. Such a reply is dropped and counted
// (reply_drops.ts). The newest replies are the ones dropped: ZeroMQ cannot give back what it
// queued, and the client retries whatever its own timeout expires on. This loop itself holds
// only the replies of the current turn.
import type zmq from 'zeromq';
import { SendSignal } from '../protocol/send_signal.js';
import type { ActorLoad } from './actor_load.js';
import { ReplyDrops } from './reply_drops.js';

/** Reply messages ZeroMQ queues per peer (the ROUTER's sendHighWaterMark). */
export const REPLY_QUEUE_PER_PEER = 1000;
/** A bundle of replies to one peer is cut into messages of at most this many bytes. */
export const BUNDLE_MAX_BYTES = 256 * 1024;
/** Peers remembered as bundling; past this the set starts over (each peer re-marks itself with its next bundle). */
const MAX_BUNDLING_PEERS = 65536;

/** The ROUTER options the sender relies on. */
export const REPLY_ROUTER_OPTIONS = { mandatory: true, sendTimeout: 0, sendHighWaterMark: REPLY_QUEUE_PER_PEER } as const;

interface OutMessage {
  msg: Buffer[];
  replies: number;
}

export class ReplySender {
  readonly drops: ReplyDrops;
  private queue: Buffer[][] = [];
  private readonly bundling = new Set<string>();
  private readonly signal = new SendSignal();
  private stopping = false;

  constructor(
    private readonly router: zmq.Router,
    report: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
    private readonly load?: ActorLoad,
  ) {
    this.drops = new ReplyDrops(report);
  }

  get queued(): number {
    return this.queue.length;
  }

  /** This peer sent several requests in one message: it reads bundled replies. */
  markBundling(peer: Buffer): void {
    if (this.bundling.size >= MAX_BUNDLING_PEERS) this.bundling.clear();
    this.bundling.add(peer.toString('latin1'));
  }

  push(peer: Buffer, buf: Buffer): void {
    this.load?.replied(buf.length);
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
    this.drops.stop();
    this.wakeNow();
  }

  async run(): Promise<void> {
    for (;;) {
      if (!this.queue.length) {
        if (this.stopping) return;
        await this.signal.wait();
        continue;
      }
      for (const out of this.messages(this.queue.splice(0, 8192))) {
        try {
          await this.router.send(out.msg);
        } catch (err) {
          if (this.router.closed) return;
          // EAGAIN: the peer's queue is full, it does not read. Anything else (EHOSTUNREACH): the
          // peer vanished. Either way the reply is dropped; the client retries by its own timeout.
          if ((err as { code?: string }).code === 'EAGAIN') this.drops.add(out.msg[0]!.toString('latin1'), out.replies);
        }
      }
    }
  }

  /** One message per reply, or per bundle of at most BUNDLE_MAX_BYTES for a bundling peer. */
  private messages(round: Buffer[][]): OutMessage[] {
    const out: OutMessage[] = [];
    const open = new Map<string, { peer: Buffer; parts: Buffer[]; bytes: number }>();
    const close = (b: { peer: Buffer; parts: Buffer[]; bytes: number }) => out.push({ msg: [b.peer, b.parts.length > 1 ? Buffer.concat(b.parts, b.bytes) : b.parts[0]!], replies: b.parts.length });
    for (const [peer, buf] of round) {
      const k = peer!.toString('latin1');
      if (!this.bundling.has(k)) {
        out.push({ msg: [peer!, buf!], replies: 1 });
        continue;
      }
      const b = open.get(k);
      if (b && b.bytes + buf!.length <= BUNDLE_MAX_BYTES) {
        b.parts.push(buf!);
        b.bytes += buf!.length;
        continue;
      }
      if (b) close(b);
      open.set(k, { peer: peer!, parts: [buf!], bytes: buf!.length });
    }
    for (const b of open.values()) close(b);
    return out;
  }
}
