// SWIM membership as a pure state machine: no sockets, no wall clock. The ZeroMQ side (store/cluster/gossip.ts) feeds it
// messages and carries what it sends, so the protocol can be unit-tested step by step with a fake clock. What the
// write lease needs (pings sent, direct acks, member states) it reports to a ProbeObserver (store/cluster/lease.ts).
import { createHash } from 'node:crypto';
import type { GossipKind, GossipMessage } from '../../schemas/cluster.js';
import type { ForkEntry, MemberState, MemberUpdate } from '../../schemas/fork_map.js';

export interface Member extends MemberUpdate { since: number }

/** What gossip needs from the fork map: merging keeps the newest epoch per fork. */
export interface ForkMapView { entries(): ForkEntry[]; merge(entries: ForkEntry[]): void; digest?(): string }

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => { const t = setTimeout(fn, ms); t.unref?.(); return t; },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Fire-and-forget delivery; whatever the peer replies comes back through Swim.receive. */
export interface GossipTransport { send(endpoint: string, msg: GossipMessage): void }

/** Told of every ping with a probe behind it, every ack from the pinged member itself, and every member state change. */
export interface ProbeObserver {
  pingSent(peer: string, seq: number, at: number): void;
  ackReceived(peer: string, seq: number): void;
  memberChanged(id: string, state: MemberState): void;
}
const unobserved: ProbeObserver = { pingSent: () => {}, ackReceived: () => {}, memberChanged: () => {} };

export const DEFAULT_DEAD_AFTER_MS = 5000;

export interface SwimOptions {
  id: string;
  endpoint: string;
  /** Upper bound on the time for a crashed member to be marked dead by the others (small clusters). */
  deadAfterMs?: number;
  indirectK?: number;
  maxPiggyback?: number;
  random?: () => number;
}

export function mapDigest(entries: ForkEntry[]): string {
  const h = createHash('sha1');
  for (const e of [...entries].sort((a, b) => (a.fork < b.fork ? -1 : a.fork > b.fork ? 1 : 0))) h.update(`${e.fork}=${e.owner}@${e.epoch};`);
  return h.digest('hex').slice(0, 16);
}

const precedence: Record<MemberState, number> = { alive: 0, suspect: 1, dead: 2, left: 3 };

interface Probe { target: string; sentAt: number; acked: boolean; relayTo?: { endpoint: string; seq: number } }

export class Swim {
  readonly id: string;
  readonly endpoint: string;
  incarnation = 0;
  readonly deadAfterMs: number;
  readonly suspicionMs: number;
  onChange: (m: Member) => void = () => {};
  /**
   * Set once a peer told this member that the cluster forgot it (`dbslm store forget`): no member acks it again, so it
   * never holds a lease again; it has to rejoin as a new member (new id, empty data dir).
   */
  forgotten = false;
  onForgotten: () => void = () => {};
  private readonly members = new Map<string, Member>();
  private readonly queue = new Map<string, { u: MemberUpdate; sent: number }>();
  private readonly probes = new Map<number, Probe>();
  private readonly peerDigest = new Map<string, string>();
  private order: string[] = [];
  private seq = 0;
  private ticks = 0;
  private timer: unknown = null;
  private lastProbe: number | null = null;
  private readonly k: number;
  private readonly maxPiggyback: number;
  private readonly random: () => number;

  constructor(opts: SwimOptions, private readonly map: ForkMapView, private readonly transport: GossipTransport,
    private readonly clock: Clock = systemClock, private readonly observer: ProbeObserver = unobserved) {
    this.id = opts.id;
    this.endpoint = opts.endpoint;
    this.deadAfterMs = opts.deadAfterMs ?? DEFAULT_DEAD_AFTER_MS;
    this.suspicionMs = this.deadAfterMs * 0.3;
    this.k = opts.indirectK ?? 3;
    this.maxPiggyback = opts.maxPiggyback ?? 8;
    this.random = opts.random ?? Math.random;
  }

  /**
   * The probe period shrinks with the cluster so every member is probed within ~20% of the dead bound; with the
   * suspicion timeout at 30% and a few periods of dissemination, the others mark a crashed member dead at about
   * 70% of the bound, leaving the rest as slack for a busy event loop.
   */
  periodMs(): number {
    const peers = Math.max(1, [...this.members.values()].filter((m) => m.state === 'alive' || m.state === 'suspect').length);
    return Math.max(10, Math.min(this.deadAfterMs / 16, (this.deadAfterMs * 0.2) / peers));
  }

  start(): void {
    if (this.timer !== null) return;
    const loop = () => { this.tick(); this.timer = this.clock.setTimeout(loop, this.periodMs()); };
    this.timer = this.clock.setTimeout(loop, this.periodMs());
  }

  stop(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  list(): Member[] {
    const self: Member = { id: this.id, endpoint: this.endpoint, incarnation: this.incarnation, state: 'alive', since: 0 };
    return [self, ...this.members.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  get(id: string): Member | undefined { return id === this.id ? this.list()[0] : this.members.get(id); }

  /** Members forgotten for good (`left`). */
  get forgottenMembers(): Member[] { return [...this.members.values()].filter((m) => m.state === 'left'); }

  alivePeers(): Member[] { return [...this.members.values()].filter((m) => m.state === 'alive' || m.state === 'suspect'); }

  join(seeds: string[]): void {
    for (const ep of seeds) if (ep !== this.endpoint) this.transport.send(ep, this.compose('JOIN', ++this.seq, true));
  }

  /** Handles one incoming message; the return value is the direct reply, if any. */
  receive(msg: GossipMessage): GossipMessage | null {
    if (msg.from === this.id) return null;
    // A forgotten member gets no ack (so no lease) and learns nothing; what it asks is answered with the news.
    const sender = this.members.get(msg.from);
    if (sender?.state === 'left') return msg.kind === 'ACK' || msg.kind === 'NONE' ? null : this.refusal(sender, msg.seq);
    if (msg.forks.length > 0) this.map.merge(msg.forks);
    this.peerDigest.set(msg.from, msg.digest);
    this.apply({ id: msg.from, endpoint: msg.fromEndpoint, incarnation: msg.incarnation, state: 'alive' });
    // The sender holds this member dead (its message carries its view of us: compose): its ack grants no lease. The
    // others may be taking our forks over meanwhile; we refute below, and its acks count once it holds us alive.
    const heldDead = msg.updates.some((u) => u.id === this.id && u.state === 'dead');
    for (const u of msg.updates) this.apply(u);
    switch (msg.kind) {
      case 'PING':
        return this.compose('ACK', msg.seq, this.digest() !== msg.digest, msg.from);
      case 'JOIN': {
        const reply = this.compose('ACK', msg.seq, true);
        reply.updates = this.list().map(({ id, endpoint, incarnation, state }) => ({ id, endpoint, incarnation, state }));
        return reply;
      }
      case 'PING_REQ': {
        const seq = ++this.seq;
        const now = this.clock.now();
        this.probes.set(seq, { target: msg.target, sentAt: now, acked: false, relayTo: { endpoint: msg.fromEndpoint, seq: msg.seq } });
        this.observer.pingSent(msg.target, seq, now);
        this.transport.send(msg.targetEndpoint, this.compose('PING', seq, this.fullMapFor(msg.target)));
        return null;
      }
      case 'ACK': {
        const p = this.probes.get(msg.seq);
        if (!p || p.acked) return null;
        const direct = msg.target === '' && msg.from === p.target;
        if (!direct && msg.target !== p.target) return null;
        p.acked = true;
        if (direct && !heldDead) this.observer.ackReceived(msg.from, msg.seq);
        if (p.relayTo) {
          const relay = this.compose('ACK', p.relayTo.seq, false);
          relay.target = p.target;
          this.transport.send(p.relayTo.endpoint, relay);
        }
        return null;
      }
      default:
        return null;
    }
  }

  /** One protocol period: settle the last probe, expire suspicions, probe the next member. */
  tick(): void {
    const now = this.clock.now();
    this.ticks++;
    if (this.lastProbe !== null) {
      const p = this.probes.get(this.lastProbe);
      const m = p && this.members.get(p.target);
      if (p && !p.acked && m && m.state === 'alive') this.apply({ ...strip(m), state: 'suspect' });
      this.lastProbe = null;
    }
    for (const m of this.members.values()) {
      if (m.state === 'suspect' && now - m.since >= this.suspicionMs) this.apply({ ...strip(m), state: 'dead' });
    }
    for (const [seq, p] of this.probes) if (now - p.sentAt > 4 * this.periodMs()) this.probes.delete(seq);
    const target = this.nextTarget();
    if (target) {
      const seq = ++this.seq;
      this.probes.set(seq, { target: target.id, sentAt: now, acked: false });
      this.observer.pingSent(target.id, seq, now);
      this.lastProbe = seq;
      this.transport.send(target.endpoint, this.compose('PING', seq, this.fullMapFor(target.id), target.id));
      this.clock.setTimeout(() => this.indirect(seq), this.periodMs() * 0.45);
    }
    // Dead members are still pinged now and then, so a healed partition or a resumed process finds its way back.
    const dead = [...this.members.values()].filter((m) => m.state === 'dead');
    if (dead.length > 0 && this.ticks % 5 === 0) {
      const d = dead[Math.floor(this.random() * dead.length)];
      const seq = ++this.seq;
      this.probes.set(seq, { target: d.id, sentAt: now, acked: false });
      this.observer.pingSent(d.id, seq, now);
      this.transport.send(d.endpoint, this.compose('PING', seq, true, d.id));
    }
  }

  /**
   * Forgets a member for good (`dbslm store forget`, or one forgotten before a restart): it no longer counts towards
   * the quorum, what it sends is refused, and the news spreads to the others (it outranks any incarnation).
   */
  forget(u: { id: string; endpoint?: string; incarnation?: number }): void {
    if (u.id === this.id) return;
    const m = this.members.get(u.id);
    this.apply({ id: u.id, endpoint: m?.endpoint ?? u.endpoint ?? '', incarnation: m?.incarnation ?? u.incarnation ?? 0, state: 'left' });
  }

  /** A member's reply that refuses us: it holds us forgotten. */
  receiveRefusal(msg: GossipMessage): void {
    for (const u of msg.updates) if (u.id === this.id && u.state === 'left') this.apply(u);
  }

  digest(): string { return this.map.digest ? this.map.digest() : mapDigest(this.map.entries()); }

  private indirect(seq: number): void {
    const p = this.probes.get(seq);
    if (!p || p.acked) return;
    const target = this.members.get(p.target);
    if (!target) return;
    const helpers = shuffle(this.alivePeers().filter((m) => m.id !== p.target && m.state === 'alive'), this.random).slice(0, this.k);
    for (const h of helpers) {
      const msg = this.compose('PING_REQ', seq, false);
      msg.target = target.id;
      msg.targetEndpoint = target.endpoint;
      this.transport.send(h.endpoint, msg);
    }
  }

  private nextTarget(): Member | undefined {
    for (let tries = 0; tries < 2; tries++) {
      while (this.order.length > 0) {
        const m = this.members.get(this.order.shift()!);
        if (m && (m.state === 'alive' || m.state === 'suspect')) return m;
      }
      this.order = shuffle(this.alivePeers().map((m) => m.id), this.random);
    }
    return undefined;
  }

  private fullMapFor(peer: string): boolean { return this.peerDigest.get(peer) !== this.digest(); }

  private apply(u: MemberUpdate): void {
    if (u.id === this.id) {
      if (u.state === 'left') {
        if (!this.forgotten) {
          this.forgotten = true;
          this.onForgotten();
        }
        return;
      }
      // Refute: someone thinks we are suspect or dead at our incarnation; outbid it.
      if ((u.state === 'suspect' || u.state === 'dead') && u.incarnation >= this.incarnation) {
        this.incarnation = u.incarnation + 1;
        this.enqueue({ id: this.id, endpoint: this.endpoint, incarnation: this.incarnation, state: 'alive' });
        this.onChange(this.list()[0]!);
      }
      return;
    }
    const cur = this.members.get(u.id);
    if (cur?.state === 'left') {
      // Whoever still gossips of a forgotten member has not heard: tell it again.
      if (u.state !== 'left') this.enqueue(strip(cur));
      return;
    }
    let take: boolean;
    if (!cur || u.state === 'left') take = true;
    else if (u.state === 'alive') take = u.incarnation > cur.incarnation;
    else if (u.incarnation > cur.incarnation) take = true;
    else take = u.incarnation === cur.incarnation && precedence[u.state] > precedence[cur.state];
    if (!take) {
      if (cur && cur.endpoint !== u.endpoint && u.incarnation >= cur.incarnation && u.endpoint) cur.endpoint = u.endpoint;
      return;
    }
    const m: Member = { ...u, since: this.clock.now() };
    this.members.set(u.id, m);
    this.observer.memberChanged(u.id, u.state);
    if (u.state !== 'dead' || !cur || cur.state !== 'dead') this.enqueue(u);
    if (!cur || cur.state !== u.state || cur.incarnation !== u.incarnation) this.onChange(m);
  }

  /** The answer to a forgotten member: no ack, only the news that it is forgotten. */
  private refusal(sender: Member, seq: number): GossipMessage {
    return {
      kind: 'NONE', from: this.id, fromEndpoint: this.endpoint, incarnation: this.incarnation, seq, target: '', targetEndpoint: '',
      digest: this.digest(), updates: [strip(sender)], forks: [],
    };
  }

  private enqueue(u: MemberUpdate): void { this.queue.set(u.id, { u: { ...u }, sent: 0 }); }

  private compose(kind: GossipKind, seq: number, fullMap: boolean, to?: string): GossipMessage {
    const limit = 3 * Math.ceil(Math.log2(this.members.size + 2));
    const picked = [...this.queue.values()].sort((a, b) => a.sent - b.sent).slice(0, this.maxPiggyback);
    for (const q of picked) if (++q.sent >= limit) this.queue.delete(q.u.id);
    const updates = picked.map((q) => q.u);
    // Tell a member we hold suspect or dead what we think of it, long after that news stopped being gossiped,
    // so it can refute and come back.
    const peer = to === undefined ? undefined : this.members.get(to);
    if (peer && (peer.state === 'suspect' || peer.state === 'dead') && !updates.some((u) => u.id === to)) updates.push(strip(peer));
    // Forgotten members ride on every message, so a member that missed the news (down when it was sent around)
    // learns it from the first message it gets, before it could ack a forgotten member back into a lease.
    for (const m of this.forgottenMembers) if (!updates.some((u) => u.id === m.id)) updates.push(strip(m));
    return {
      kind, from: this.id, fromEndpoint: this.endpoint, incarnation: this.incarnation, seq, target: '', targetEndpoint: '',
      digest: this.digest(), updates, forks: fullMap ? this.map.entries() : [],
    };
  }
}

function strip(m: Member): MemberUpdate { return { id: m.id, endpoint: m.endpoint, incarnation: m.incarnation, state: m.state }; }

function shuffle<T>(xs: T[], random: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}
