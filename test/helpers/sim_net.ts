// A simulated clock and network for in-process protocol tests: events run in time order on a fake clock, randomness
// comes from a seed, and requests behave like PeerLink's (one reply or a timeout, whichever comes first). Each link
// between two nodes is FIFO like a ZeroMQ connection; messages may be lost or duplicated (a copy right behind the
// original) or overtaken by later ones (`reorderRate`, beyond what one connection does, as when a copy is delivered
// over a new connection), and are dropped when their receiver is down unless `queueForRestart` is set, which models a ZeroMQ
// socket holding messages for a peer until it reconnects (a restarted receiver then gets them). A partition loses
// everything sent while it lasts.

import { seededRandom } from '../../model/sample.js';

/** mulberry32 (the sampler's): the same sequence for the same seed everywhere. */
export { seededRandom };

interface Scheduled {
  at: number;
  order: number;
  fn: () => void;
}

/** Callbacks in (time, insertion) order on a binary heap. */
export class SimClock {
  now = 0;
  private heap: Scheduled[] = [];
  private order = 0;

  schedule(delayMs: number, fn: () => void): void {
    this.push({ at: this.now + Math.max(0, delayMs), order: this.order++, fn });
  }

  get pending(): number {
    return this.heap.length;
  }

  /** Runs callbacks until none is left or the next is after `untilMs`; false if callbacks remain. */
  run(untilMs: number): boolean {
    while (this.heap.length > 0) {
      if (this.heap[0]!.at > untilMs) return false;
      const next = this.pop();
      this.now = next.at;
      next.fn();
    }
    return true;
  }

  private less(a: Scheduled, b: Scheduled): boolean {
    return a.at < b.at || (a.at === b.at && a.order < b.order);
  }
  private push(s: Scheduled): void {
    const h = this.heap;
    h.push(s);
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  private pop(): Scheduled {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

export interface SimReply {
  code: string;
  message: string;
  body?: unknown;
}

/** A node as the network sees it: whether it is up, which life it is in, and how it answers a request. */
export interface SimEndpoint {
  readonly id: string;
  up: boolean;
  /** Bumped by every crash: replies and timers of an earlier life are ignored. */
  life: number;
  handle(cmd: string, body: unknown): SimReply;
}

export interface NetFaults {
  lossRate: number;
  duplicateRate: number;
  /** Share of messages held back long enough for later messages on their link to overtake them. */
  reorderRate: number;
  minLatencyMs: number;
  maxLatencyMs: number;
  /** Messages to a down node wait for its restart instead of being dropped. */
  queueForRestart: boolean;
}

export const NO_FAULTS: NetFaults = { lossRate: 0, duplicateRate: 0, reorderRate: 0, minLatencyMs: 1, maxLatencyMs: 1, queueForRestart: false };

export class SimNet {
  faults: NetFaults = { ...NO_FAULTS };
  readonly nodes = new Map<string, SimEndpoint>();
  /** Latest delivery time per link, so each link stays FIFO. */
  private readonly linkClock = new Map<string, number>();
  /** Per receiver: deliveries waiting for its restart. */
  private readonly held = new Map<string, (() => void)[]>();
  /** While set, every message is lost (a network partition). */
  partitioned = false;
  delivered = 0;

  constructor(readonly clock: SimClock, readonly random: () => number) {}

  add(node: SimEndpoint): void {
    this.nodes.set(node.id, node);
  }

  /** A restarted node gets what was held for it, in order. */
  restarted(id: string): void {
    const held = this.held.get(id) ?? [];
    this.held.delete(id);
    for (const deliver of held) deliver();
  }

  /** Request/reply like PeerLink.tryRequest: `done` gets the reply, or null after `timeoutMs`; exactly once. */
  request(from: SimEndpoint, to: string, cmd: string, body: unknown, timeoutMs: number, done: (reply: SimReply | null) => void): void {
    const life = from.life;
    let settled = false;
    const settle = (reply: SimReply | null) => {
      if (settled || from.life !== life) return;
      settled = true;
      done(reply);
    };
    this.clock.schedule(timeoutMs, () => settle(null));
    const receiver = this.nodes.get(to);
    if (!receiver) return;
    const copies = this.random() < this.faults.duplicateRate ? 2 : 1;
    for (let copy = 0; copy < copies; copy++) {
      this.send(from.id, to, () => {
        const reply = receiver.handle(cmd, body);
        this.send(to, from.id, () => settle(reply));
      });
    }
  }

  /** One message over the link `from` -> `to`: maybe lost, else delivered in link order. */
  send(from: string, to: string, deliver: () => void): void {
    if (this.partitioned || this.random() < this.faults.lossRate) return;
    const link = `${from}>${to}`;
    const { minLatencyMs, maxLatencyMs } = this.faults;
    const latency = minLatencyMs + this.random() * (maxLatencyMs - minLatencyMs);
    let at: number;
    if (this.random() < this.faults.reorderRate) at = this.clock.now + latency + this.random() * 20 * maxLatencyMs;
    else {
      at = Math.max(this.clock.now + latency, (this.linkClock.get(link) ?? 0) + 0.001);
      this.linkClock.set(link, at);
    }
    const receiver = this.nodes.get(to);
    this.clock.schedule(at - this.clock.now, () => {
      if (!receiver) return;
      if (!receiver.up) {
        if (this.faults.queueForRestart) this.held.set(to, [...(this.held.get(to) ?? []), deliver]);
        return;
      }
      this.delivered++;
      deliver();
    });
  }
}
