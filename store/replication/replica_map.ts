// The fork-map side of an owner's replication (issue 10): the changes its in-sync machines ask for
// (drop a lagging replica, admit one that caught up) and the placement of missing replicas
// (placement.ts), made in one map change per tick (every changed entry at epoch version + 1,
// keeping its term), adopted here and pushed to every alive member (`map-put`).
//
// A returning old owner is made a replica of the forks a failover took from it (`formerOwner`, told
// by failover.ts), and an operator's replica move puts its target in its source's place
// (`moveReplica`): placement.ts puts the member on top of a full set and lets the stand-in go once
// it is in sync. The owner keeps these in memory only: after its own restart the old owner stays out.
//
// A drop is confirmed to the machine only once a quorum holds the entry without the replica (read
// back from their maps: a push is answered OK even by a member that kept a rival entry of the same
// epoch, e.g. the dropped replica's own promotion): a failover promotes from the in-sync set it
// finds, so writes the dropped replica lacks are not acknowledged before the members that would
// pick the new owner know it is out. Until then the change is pushed again every tick.
import { ADMIN_COMMANDS } from '../../schemas/admin.js';
import type { ForkEntry } from '../../schemas/fork_map.js';
import type { StoreActor } from '../actor/actor.js';
import type { PeerLink } from '../client/peer_link.js';
import { pushEntries } from '../cluster/moves/map_push.js';
import type { MoveCluster } from '../cluster/moves/move_cluster.js';
import { sameEntry } from '../map/fork_entry.js';
import { ForkMap } from '../map/fork_map.js';
import type { InSyncAction } from './in_sync.js';
import type { OwnerStreams } from './owner_stream.js';
import { StoreError } from '../protocol/errors.js';
import { placeReplicas, type Joining, type ReplicaChange } from './placement.js';

const READ_TIMEOUT_MS = 1000;

export class ReplicaMap {
  /** Per fork: replicas to take out of the in-sync set, and to put in. */
  private readonly asked = new Map<string, { drop: Set<string>; admit: Set<string> }>();
  /** Drops adopted here but not yet confirmed by a quorum, per fork. */
  private readonly unconfirmed = new Map<string, Set<string>>();
  /** Per fork: in-sync replicas placement lets go (one more than R - 1 in sync); off the list once a quorum holds their drop. */
  private readonly lettingGo = new Map<string, Set<string>>();
  /** Per fork: a member to make a replica on top of a full set (a returning old owner, a replica move's target). */
  private readonly joining = new Map<string, Joining>();
  private pushing = false;

  constructor(
    private readonly actor: StoreActor,
    private readonly link: PeerLink,
    private readonly cluster: MoveCluster,
    private readonly streams: () => OwnerStreams,
    private readonly factor: number,
    private readonly moving: (fork: string) => boolean,
    /** This member stalled less than a dead bound ago (failover_guard.ts). */
    private readonly stalled: () => boolean,
  ) {}

  /** The in-sync machine of `fork` asked for these. */
  ask(fork: string, actions: InSyncAction[]): void {
    let a = this.asked.get(fork);
    if (!a) this.asked.set(fork, (a = { drop: new Set(), admit: new Set() }));
    for (const action of actions) {
      if (action.kind === 'drop') {
        a.drop.add(action.replica);
        a.admit.delete(action.replica);
      } else if (action.kind === 'admit') {
        a.admit.add(action.replica);
        a.drop.delete(action.replica);
      }
    }
  }

  /** This member took `fork` from `owner` by a failover: once `owner` is alive again it becomes a replica of it. */
  formerOwner(fork: string, owner: string): void {
    this.joining.set(fork, { member: owner });
  }

  /** `store move --from`: the replica of `fork` on `from` moves to `to`; resolves with the entry's epoch once `to` is in sync and `from` let go. */
  async moveReplica(fork: string, from: string, to: string, timeoutMs: number): Promise<number> {
    const me = this.actor.id;
    const e = this.actor.map.get(fork);
    if (e?.owner !== me) throw new StoreError('MOVED', `fork ${fork} is no longer owned by ${me}; retry`, true);
    if (this.factor < 2) throw new StoreError('BAD_REQUEST', `${me} runs with --replicas 1: it keeps no replicas to move`);
    if (!(e.replicas ?? []).includes(from)) throw new StoreError('BAD_REQUEST', `${from} holds no replica of fork ${fork} (replicas: ${(e.replicas ?? []).join(', ') || 'none'}; see \`dbslm store status\`)`);
    if (to === me || (e.replicas ?? []).includes(to)) throw new StoreError('BAD_REQUEST', `${to} holds a copy of fork ${fork} already: a fork never has two copies on one member`);
    if (this.cluster.memberState(to) !== 'alive') throw new StoreError('BAD_REQUEST', `${to} is ${this.cluster.memberState(to) ?? 'unknown'}; a replica moves to an alive member only`);
    if (this.moving(fork)) throw new StoreError('FENCED', `fork ${fork} is moving; retry when that ends`, true);
    const join = { member: to, replacing: from };
    this.joining.set(fork, join);
    const deadline = performance.now() + timeoutMs;
    try {
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        const now = this.actor.map.get(fork);
        if (now?.owner !== me) throw new StoreError('MOVED', `fork ${fork} went to another owner during the replica move; see \`dbslm store status\` and retry`, true);
        if (this.joined(now, join)) return now.epoch;
        if (this.joining.get(fork) !== join) throw new StoreError('FENCED', `the replica move of fork ${fork} to ${to} was replaced by another change of its replicas (${to} ${this.cluster.memberState(to)}); retry`, true);
        if (performance.now() > deadline) throw new StoreError('INTERNAL', `${to} did not catch up with fork ${fork} within ${timeoutMs} ms; ${from} keeps its replica (see \`dbslm store status\` for the lag)`, true);
      }
    } finally {
      // Given up: the target, if not in sync yet, is a spare replica placement lets go.
      if (this.joining.get(fork) === join) this.joining.delete(fork);
    }
  }

  private joined(e: ForkEntry, join: Joining): boolean {
    const replicas = e.replicas ?? [];
    return (e.inSync ?? []).includes(join.member) && (join.replacing === undefined || !replicas.includes(join.replacing)) && replicas.length <= this.factor - 1;
  }

  /**
   * Make the changes asked for and the placements due, while this member holds its lease and has
   * not just stalled: an owner that was stopped finds every replica lagging by its own stop, and a
   * drop it made then took the same epoch as the promotion of that replica made meanwhile (fault
   * seed 17 at R = 2: two owners at one epoch). After a dead bound it has heard of any such promotion.
   */
  tick(): void {
    if (this.pushing || !this.cluster.leaseValid() || this.stalled()) return;
    const changes = new Map<string, ReplicaChange>();
    const answered: string[] = [];
    let drops: { fork: string; replica: string }[] = [];
    for (const [fork, a] of this.asked) {
      const e = this.actor.map.get(fork);
      if (!e || e.owner !== this.actor.id) {
        this.asked.delete(fork);
        continue;
      }
      if (this.moving(fork)) continue; // asked again once the move is over (its cut-over takes the next epoch)
      answered.push(fork);
      const replicas = e.replicas ?? [];
      const inSync = (e.inSync ?? []).filter((id) => !a.drop.has(id));
      for (const id of a.admit) if (replicas.includes(id) && !inSync.includes(id)) inSync.push(id);
      changes.set(fork, { fork, replicas, inSync });
    }
    if (this.factor > 1) {
      const alive = this.cluster.memberIds().filter((id) => id === this.actor.id || this.cluster.memberState(id) === 'alive');
      const gone = (id: string) => ['dead', 'left', undefined].includes(this.cluster.memberState(id));
      const entries = [...this.actor.map.entries.values()].map((e) => {
        const c = changes.get(e.fork);
        return c ? { ...e, replicas: c.replicas, inSync: c.inSync } : e;
      });
      this.forgetJoined();
      const placement = placeReplicas(entries, this.actor.id, this.factor, alive, gone, this.joining);
      const current = new Map(entries.map((e) => [e.fork, e]));
      for (const c of placement.changes) {
        // A fork being moved gets no new replica: it could land on the move's target (two copies on one member).
        if (this.moving(c.fork)) continue;
        // A replica whose drop a quorum does not hold yet stays listed: once it leaves the replicas
        // releases stop waiting for it, and a failover reading the older entry could promote it.
        const before = current.get(c.fork)!;
        const waiting = new Set([...(this.unconfirmed.get(c.fork) ?? []), ...(answered.includes(c.fork) ? this.asked.get(c.fork)!.drop : [])]);
        if ((before.replicas ?? []).some((id) => waiting.has(id) && !c.replicas.includes(id))) continue;
        changes.set(c.fork, c);
      }
      drops = placement.drops.filter((d) => !this.moving(d.fork));
    }
    if (changes.size) {
      try {
        this.actor.applyMap(this.actor.map.withReplicaChanges([...changes.values()]));
      } catch (err) {
        // The map file could not be written (a full disk): nothing changed; what was asked stays asked.
        process.stderr.write(`store actor ${this.actor.id}: replica changes of ${changes.size} fork(s) not made: ${(err as Error).message}\n`);
        return;
      }
      for (const fork of answered) {
        const drop = this.asked.get(fork)!.drop;
        this.asked.delete(fork);
        if (drop.size) this.unconfirmed.set(fork, new Set([...(this.unconfirmed.get(fork) ?? []), ...drop]));
      }
      // Everyone learns at once rather than at the pace of gossip (the drops are pushed again below until a quorum has them).
      if (!this.unconfirmed.size) void pushEntries(this.link, this.cluster, [...changes.keys()].map((f) => this.actor.map.get(f)!));
    }
    if (this.unconfirmed.size) void this.confirm();
    // Through the fork's in-sync machine, as a lag drop: it counts the replica until a quorum holds the drop. Asked
    // after this tick's answers were taken (asked now, it would be cleared with them, unmade), made on the next.
    for (const d of drops) {
      this.streams().letGo(d.fork, d.replica);
      this.lettingGo.set(d.fork, new Set([...(this.lettingGo.get(d.fork) ?? []), d.replica]));
    }
  }

  /** Members that joined (in sync, the stand-in gone) or were forgotten, and forks no longer ours, need nothing more. */
  private forgetJoined(): void {
    for (const [fork, join] of this.joining) {
      const e = this.actor.map.get(fork);
      const forgotten = ['left', undefined].includes(this.cluster.memberState(join.member));
      if (!e || e.owner !== this.actor.id || this.joined(e, join) || forgotten) this.joining.delete(fork);
    }
  }

  /** Push the entries whose drops await a quorum; once one holds them, the machines stop waiting for the dropped. */
  private async confirm(): Promise<void> {
    this.pushing = true;
    try {
      const forks = [...this.unconfirmed.keys()];
      const entries = forks.map((f) => this.actor.map.get(f)).filter((e) => e !== undefined);
      await pushEntries(this.link, this.cluster, entries);
      // A peer answers a push OK whether or not it took the entries (it keeps one of the same or a
      // newer epoch: a failover's, or a move's), so count the peers whose map now holds each entry.
      const holders = await this.holders(entries);
      for (const fork of forks) {
        const e = this.actor.map.get(fork);
        if (!e || e.owner !== this.actor.id) {
          this.unconfirmed.delete(fork); // no longer ours: its waiting writes were answered FENCED
          this.lettingGo.delete(fork);
          continue;
        }
        if ((holders.get(fork) ?? 0) + 1 < this.cluster.quorum()) continue;
        const dropped = this.unconfirmed.get(fork);
        this.unconfirmed.delete(fork);
        if (dropped) this.letGoneOff(e, dropped);
        if (dropped) this.streams().confirmDrops(fork, [...dropped].filter((id) => !(e.inSync ?? []).includes(id)));
      }
    } finally {
      this.pushing = false;
    }
  }

  /**
   * A quorum holds the drop of replicas placement let go: take them off the list at once, in the same turn as their
   * machine would count them out. Left on it for a tick, one that acknowledged a commit meanwhile was admitted again
   * and let go again, round after round under steady writes.
   */
  private letGoneOff(e: ForkEntry, dropped: Set<string>): void {
    const leaving = [...(this.lettingGo.get(e.fork) ?? [])].filter((id) => dropped.has(id) && !(e.inSync ?? []).includes(id));
    this.lettingGo.delete(e.fork);
    // The rules of `tick` hold here too (this runs after awaits, maybe past a stall): without them the change took the
    // same epoch as a failover of the fork made meanwhile (fault seed 18 at R = 2: two owners at epoch 55).
    if (!leaving.length || this.moving(e.fork) || !this.cluster.leaseValid() || this.stalled()) return;
    try {
      this.actor.applyMap(this.actor.map.withReplicaChanges([{ fork: e.fork, replicas: (e.replicas ?? []).filter((id) => !leaving.includes(id)), inSync: e.inSync ?? [] }]));
    } catch {
      return; // the map file could not be written: placement lets them go on a later tick
    }
    void pushEntries(this.link, this.cluster, [this.actor.map.get(e.fork)!]);
  }

  /** Per fork, how many alive peers hold `entries` as they are. */
  private async holders(entries: ForkEntry[]): Promise<Map<string, number>> {
    const body = ADMIN_COMMANDS.map.encodeRequest({});
    const replies = await Promise.all(this.cluster.alivePeerEndpoints().map((ep) => this.link.tryRequest(ep, 'map', body, READ_TIMEOUT_MS)));
    const out = new Map<string, number>();
    for (const rep of replies) {
      if (rep?.code !== 'OK') continue;
      let theirs: ForkMap;
      try {
        theirs = ForkMap.fromEntries(ADMIN_COMMANDS.map.decodeReply(rep.body).map.entries);
      } catch {
        continue; // an unreadable map holds nothing
      }
      for (const e of entries) {
        const t = theirs.get(e.fork);
        if (t && sameEntry(t, e)) out.set(e.fork, (out.get(e.fork) ?? 0) + 1);
      }
    }
    return out;
  }
}

