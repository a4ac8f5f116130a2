// An owner's side of replication (issue 10): the IO wrapper around in_sync.ts, as moves/source.ts is
// around source_machine.ts. For every fork this member owns that has (or should have) replicas, it
// watches the fork's committed changes (the change log live moves use: increments as deltas,
// other writes as final values, deletions and dedup rows), numbers them per fork (sequence under
// the owner's term), sends them to the
// replicas (`repl-apply`, one message per replica member per commit, all forks together) and
// holds the group's client replies until every in-sync replica committed them (`replyBarrier`).
// A replica that is new, restarted or lost its place gets a snapshot (`repl-snapshot`, the moves'
// export) and then the tail. The map changes the machine asks for (drop, admit) and the placement
// of missing replicas are made by replica_map.ts.
import type { ForkChunk } from '../../schemas/fork_chunk.js';
import type { ForkEntry } from '../../schemas/fork_map.js';
import { REPLICATION_COMMANDS, type ReplItem, type ReplResult } from '../../schemas/replication.js';
import type { StoreActor } from '../actor/actor.js';
import type { PeerLink } from '../client/peer_link.js';
import { termOf } from '../map/fork_entry.js';
import { StoreError } from '../protocol/errors.js';
import { InSyncSet, type InSyncAction } from './in_sync.js';
import type { ReplicaSide } from './replica_side.js';

const applyCommand = REPLICATION_COMMANDS['repl-apply'];
const snapshotCommand = REPLICATION_COMMANDS['repl-snapshot'];
/** A replica that has not acknowledged what was sent this long gets it again. */
const RESEND_MS = 500;
const REQUEST_TIMEOUT_MS = 5000;
/** Changes kept per fork for replicas that fall behind; one that needs older ones gets a snapshot. */
const MAX_BUFFERED = 8192;
/** An out replica this close to the owner starts to count, and is admitted once level with what was released. */
const ADMIT_WITHIN = 64;
const SNAPSHOTS_AT_ONCE = 8;

type LinkMode = 'stream' | 'snapshot' | 'idle';
interface ReplicaLink {
  mode: LinkMode;
  acked: number;
  /** When changes were last sent, or the last reply came. */
  lastSent: number;
}

export interface StreamHooks {
  /** The in-sync machine asked for these changes of the fork's entry (drop, admit). */
  onActions(fork: string, actions: InSyncAction[]): void;
  /** The member's endpoint, and whether it is alive now. */
  endpointOf(id: string): string | undefined;
  alive(id: string): boolean;
}

class ForkStream {
  seq: number;
  readonly buffer: { seq: number; chunk: ForkChunk }[] = [];
  readonly links = new Map<string, ReplicaLink>();
  unwatch: () => void = () => {};
  constructor(
    readonly fork: string,
    readonly term: number,
    /** The sequence this owner started from (a promoted replica's last applied one), -1 for a fresh stream. */
    readonly base: number,
    readonly set: InSyncSet,
  ) {
    this.seq = Math.max(0, base);
  }
}

export class OwnerStreams {
  private readonly streams = new Map<string, ForkStream>();
  private readonly outbox = new Map<string, ReplItem[]>();
  private flushScheduled = false;
  private checkScheduled = false;
  private snapshots = 0;
  private waiters: { needs: [ForkStream, number][]; resolve: (err: StoreError | null) => void }[] = [];

  constructor(
    private readonly actor: StoreActor,
    private readonly link: PeerLink,
    private readonly replicaSide: ReplicaSide,
    private readonly hooks: StreamHooks,
    private readonly opts: { factor: number; lagBoundMs: number },
  ) {
    actor.group.replyBarrier = () => this.barrier();
  }

  /** The stream of `fork`, if this member replicates it as owner: for status and the in-sync machine's map confirmations. */
  stream(fork: string): ForkStream | undefined {
    return this.streams.get(fork);
  }

  /**
   * (A handover, store/cluster/moves/handover.ts: the fork is fenced.) Once every replica the owner's releases wait
   * for, the map's in-sync set among them, has committed all the owner committed of `fork`: where its stream stands.
   * Null without a stream, or after `timeoutMs`.
   */
  async caughtUp(fork: string, timeoutMs: number): Promise<{ term: number; seq: number } | null> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const s = this.streams.get(fork);
      if (!s) return null;
      if (s.set.released >= s.seq) return { term: s.term, seq: s.seq };
      if (performance.now() > deadline) return null;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Follow the map: a stream per owned fork that has or wants replicas, with links to the replicas the entry lists. */
  sync(): void {
    const me = this.actor.id;
    for (const [fork, s] of this.streams) {
      const e = this.actor.map.get(fork);
      if (!e || e.owner !== me || termOf(e) !== s.term) this.close(s);
    }
    for (const e of this.actor.map.entries.values()) {
      if (e.owner !== me || (this.opts.factor < 2 && !e.replicas?.length)) continue;
      const s = this.streams.get(e.fork) ?? this.open(e);
      const replicas = e.replicas ?? [];
      for (const id of [...s.links.keys()]) {
        if (replicas.includes(id)) continue;
        s.links.delete(id);
        this.onActions(s, s.set.remove(id));
      }
      for (const id of replicas) {
        if (s.links.has(id)) continue;
        s.set.addOut(id);
        s.links.set(id, { mode: 'idle', acked: -1, lastSent: 0 });
      }
    }
  }

  /** Time passed: lag drops, resends to replicas that went quiet, snapshots for replicas without a place. */
  tick(now: number): void {
    for (const s of this.streams.values()) {
      this.onActions(s, s.set.tick(now));
      for (const [id, l] of s.links) {
        if (l.mode === 'stream' && l.acked < s.seq && now - l.lastSent > RESEND_MS) this.sendFrom(s, id, l.acked + 1);
        else if (l.mode === 'idle' && this.snapshots < SNAPSHOTS_AT_ONCE && this.hooks.alive(id)) void this.snapshot(s, id);
      }
    }
  }

  /** Per replicated fork: replicas with their state and how many changes they are behind. */
  lag(): { fork: string; lag: ReturnType<InSyncSet['lag']> }[] {
    return [...this.streams.values()].map((s) => ({ fork: s.fork, lag: s.set.lag() }));
  }

  private open(e: ForkEntry): ForkStream {
    const term = termOf(e);
    // A replica promoted to owner goes on numbering from what it had applied (replica_apply.ts: the
    // other replicas compare it with theirs); any other new stream starts afresh and fills its replicas by snapshot.
    const place = this.replicaSide.applied(e.fork);
    const base = place && place.term < term ? place.seq : -1;
    this.replicaSide.release(e.fork);
    const inSync = (e.inSync ?? []).filter((id) => (e.replicas ?? []).includes(id));
    const s = new ForkStream(e.fork, term, base, new InSyncSet(inSync, { lagBoundMs: this.opts.lagBoundMs, startSeq: Math.max(0, base), admitWithin: ADMIT_WITHIN }));
    for (const id of inSync) s.links.set(id, { mode: base >= 0 ? 'stream' : 'idle', acked: base, lastSent: 0 });
    // Deltas: a replica applies each change once (replica_places.ts) onto the owner's state (see snapshot).
    s.unwatch = this.actor.watchFork(e.fork, (chunk) => this.committed(s, chunk), false);
    this.streams.set(e.fork, s);
    return s;
  }

  private close(s: ForkStream): void {
    s.unwatch();
    this.streams.delete(s.fork);
    this.checkWaiters();
  }

  private committed(s: ForkStream, chunk: ForkChunk): void {
    const seq = ++s.seq;
    s.buffer.push({ seq, chunk });
    if (s.buffer.length > MAX_BUFFERED) s.buffer.shift();
    this.onActions(s, s.set.committed(seq, performance.now()));
    for (const [id, l] of s.links) if (l.mode === 'stream') this.queue(id, s, seq, chunk);
    for (const l of s.links.values()) if (l.mode === 'stream') l.lastSent = performance.now();
  }

  private queue(member: string, s: ForkStream, seq: number, chunk: ForkChunk): void {
    let items = this.outbox.get(member);
    if (!items) this.outbox.set(member, (items = []));
    items.push({ fork: s.fork, term: s.term, seq, base: s.base, chunk });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (!this.outbox.size) return;
    const outbox = [...this.outbox];
    this.outbox.clear();
    for (const [member, items] of outbox) void this.send(member, items);
  }

  private async send(member: string, items: ReplItem[]): Promise<void> {
    const ep = this.hooks.endpointOf(member);
    if (!ep) return;
    const rep = await this.link.tryRequest(ep, 'repl-apply', applyCommand.encodeRequest({ owner: this.actor.id, items }), REQUEST_TIMEOUT_MS);
    if (!rep || rep.code !== 'OK') return; // resent from its acknowledged place after RESEND_MS
    for (const r of applyCommand.decodeReply(rep.body).results) this.onResult(member, r);
  }

  private onResult(member: string, r: ReplResult): void {
    const s = this.streams.get(r.fork);
    const l = s?.links.get(member);
    if (!s || !l || r.term !== s.term) return;
    if (r.need === 'SNAPSHOT') {
      if (l.mode === 'stream') l.mode = 'idle';
      return;
    }
    if (r.need === 'REFUSED' || l.mode !== 'stream') return; // a newer owner: the map will say so
    l.lastSent = performance.now();
    if (r.acked > l.acked) {
      l.acked = r.acked;
      this.onActions(s, s.set.acked(member, r.acked));
      this.prune(s);
    }
    if (r.need === 'TAIL') this.sendFrom(s, member, r.from);
  }

  /** Send the buffered changes from `from` on, or a snapshot when they are no longer buffered. */
  private sendFrom(s: ForkStream, member: string, from: number): void {
    const l = s.links.get(member)!;
    l.lastSent = performance.now();
    if (from > s.seq) return;
    if (!s.buffer.length || s.buffer[0]!.seq > from) {
      l.mode = 'idle';
      return;
    }
    for (const item of s.buffer) if (item.seq >= from) this.queue(member, s, item.seq, item.chunk);
  }

  /**
   * Fill a replica from the fork's snapshot; then stream it the changes after the snapshot began. The chunks are read
   * while writes go on, so the changes made meanwhile are noted as final values (a second watch, wanting totals),
   * which replay onto rows read at any later sequence; the deltas after the last read apply onto the owner's rows.
   */
  private async snapshot(s: ForkStream, member: string): Promise<void> {
    const l = s.links.get(member)!;
    const ep = this.hooks.endpointOf(member);
    if (!ep) return;
    l.mode = 'snapshot';
    this.snapshots++;
    let upTo = -1;
    let first = true;
    const endTotals = this.actor.watchFork(s.fork, () => {}, true);
    // Right after the first chunk's read, nothing committed since the export's own commit: every change up to `s.seq` is in it.
    const chunks = this.actor.exportFork(s.fork, undefined, () => {
      if (upTo < 0) upTo = s.seq;
    });
    try {
      for await (const chunk of chunks) {
        if (chunk.done) endTotals();
        if (s.links.get(member) !== l || this.streams.get(s.fork) !== s) return;
        const body = snapshotCommand.encodeRequest({ owner: this.actor.id, fork: s.fork, term: s.term, upTo, first, chunk });
        first = false;
        const rep = await this.link.request(ep, 'repl-snapshot', body, REQUEST_TIMEOUT_MS);
        if (rep.code !== 'OK' || snapshotCommand.decodeReply(rep.body).need !== 'NONE') throw new Error(`${rep.code} ${rep.message}`);
      }
    } catch {
      if (l.mode === 'snapshot') l.mode = 'idle'; // tried again on a later tick
      return;
    } finally {
      endTotals();
      this.snapshots--;
    }
    // The replica left the fork's replicas, or the fork this member, while the last chunk was out.
    if (s.links.get(member) !== l || this.streams.get(s.fork) !== s) return;
    l.mode = 'stream';
    l.acked = upTo;
    this.onActions(s, s.set.acked(member, upTo));
    this.sendFrom(s, member, upTo + 1);
  }

  /** Drop buffered changes every streaming replica has. */
  private prune(s: ForkStream): void {
    let low = s.seq;
    for (const l of s.links.values()) if (l.mode !== 'idle') low = Math.min(low, l.acked);
    while (s.buffer.length && s.buffer[0]!.seq <= low) s.buffer.shift();
  }

  private onActions(s: ForkStream, actions: InSyncAction[]): void {
    if (!actions.length) return;
    if (actions.some((a) => a.kind === 'release')) this.checkWaitersSoon();
    const changes = actions.filter((a) => a.kind !== 'release');
    if (changes.length) this.hooks.onActions(s.fork, changes);
  }

  /** After a commit: wait until every replicated fork's replicas have what this member committed so far. */
  private barrier(): Promise<StoreError | null> | null {
    // The commit's changes (all forks, one message per replica) leave now. Left to the flush after
    // this turn they waited until the actor's receive loop drained its socket (ZeroMQ resolves
    // receives without a turn while messages are queued): under load the owner applied its whole
    // window of client batches before the replica got the first change, so owner and replica took
    // turns, each idle while the other worked.
    this.flush();
    const needs: [ForkStream, number][] = [];
    for (const s of this.streams.values()) if (s.set.released < s.seq) needs.push([s, s.seq]);
    if (!needs.length) return null;
    return new Promise((resolve) => this.waiters.push({ needs, resolve }));
  }

  /** After the current run of releases (a reply acknowledges up to every fork; a check after each was quadratic). */
  private checkWaitersSoon(): void {
    if (this.checkScheduled) return;
    this.checkScheduled = true;
    queueMicrotask(() => {
      this.checkScheduled = false;
      this.checkWaiters();
    });
  }

  private checkWaiters(): void {
    this.waiters = this.waiters.filter((w) => {
      const lost = w.needs.find(([s]) => this.streams.get(s.fork) !== s);
      if (lost) {
        w.resolve(new StoreError('FENCED', `fork ${lost[0].fork} went to another owner before its replicas confirmed this write; it may or may not be applied (a batch is safe to resend)`, true));
        return false;
      }
      if (w.needs.every(([s, seq]) => s.set.released >= seq)) {
        w.resolve(null);
        return false;
      }
      return true;
    });
  }

  /** Placement lets an in-sync replica of `fork` go (in_sync.ts `letGo`): its machine asks the map to drop it. */
  letGo(fork: string, replica: string): void {
    const s = this.streams.get(fork);
    if (s) this.onActions(s, s.set.letGo(replica));
  }

  /** The map took these changes: the in-sync machine of `fork` may stop waiting for the dropped replicas. */
  confirmDrops(fork: string, dropped: string[]): void {
    const s = this.streams.get(fork);
    if (s) for (const id of dropped) this.onActions(s, s.set.dropped(id));
  }
}
