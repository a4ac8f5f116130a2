// Automatic failover (issue 10): when a fork's owner is dead (SWIM) or forgotten, the first member
// of the fork's in-sync set that is alive promotes itself: one map change for all such forks, each
// with a new epoch that is also its new term (the replication stream's number), the dead owner out
// of the replicas, pushed to every alive member. Clients follow MOVED as for any new owner, and the
// old owner, if it returns, finds the newer epoch and serves nothing of the fork (its writes get
// MOVED; its stream is refused by the replicas, replica_side.ts); the new owner then makes it a
// replica of the fork (replica_map.ts, placement.ts).
//
// Only a member holding its lease (a quorum hears it) promotes, only for owners a quorum has held dead
// for a lease period, and not within a dead bound of a stall of its own (failover_guard.ts), and only after reading the
// map of the alive members: an owner drops a lagging replica from the in-sync set only once a quorum has
// the drop (replica_map.ts), so a quorum read finds it and a dropped replica never takes the fork
// with writes it lacks. Every in-sync replica computes the same first alive member from the same
// entry; two views that disagree (a member alive for one, dead for the other) are the partitions
// this randomized tests are to cover.
import { CLUSTER_COMMANDS } from '../../schemas/cluster.js';
import type { ForkEntry, MemberState } from '../../schemas/fork_map.js';
import type { StoreActor } from '../actor/actor.js';
import type { PeerLink } from '../client/peer_link.js';
import { pushEntries } from '../cluster/moves/map_push.js';
import type { MoveCluster } from '../cluster/moves/move_cluster.js';
import { ForkMap } from '../map/fork_map.js';
import { FailoverGuard } from './failover_guard.js';
import type { ReplicaSide } from './replica_side.js';

const READ_TIMEOUT_MS = 1000;
/** Between two quorum reads of one member: while only it holds an owner dead, it asks again at this pace. */
const ASK_EVERY_MS = 200;

export class Failover {
  private running = false;
  /** A check found forks to take but could not yet (no lease, no quorum answered): the timer tries again. */
  retry = false;
  private readonly guard: FailoverGuard;
  private lastAsk = -Infinity;
  /** Owners this member holds dead without a quorum's agreement, told once on stderr. */
  private readonly alone = new Set<string>();

  constructor(
    private readonly actor: StoreActor,
    private readonly link: PeerLink,
    private readonly cluster: MoveCluster,
    private readonly replicaSide: ReplicaSide,
    deadAfterMs: number,
    /** Took `fork` from `owner`: the owner becomes a replica of it if it comes back (replica_map.ts). */
    private readonly tookFrom: (fork: string, owner: string) => void,
  ) {
    this.guard = new FailoverGuard(deadAfterMs, performance.now());
  }

  /** The replication timer ran: a gap since the last run is a stall of this member (failover_guard.ts). */
  beat(now: number): void {
    const stall = this.guard.beat(now);
    const me = this.actor.id;
    if (stall && [...this.actor.map.entries.values()].some((e) => e.inSync?.includes(me))) {
      process.stderr.write(`store actor ${me}: stalled ${Math.round(stall)} ms: no failover or replica change for ${this.guard.deadAfterMs} ms\n`);
    }
  }

  /** This member stalled less than a dead bound ago: its view of who is dead or lagging is not to be acted on. */
  stalled(): boolean {
    return this.guard.stalled(performance.now());
  }

  /** Promote this member for every fork it should take now (called on member changes, and by the timer while `retry`). */
  async check(): Promise<void> {
    if (this.running) {
      this.retry = true; // a member may have died meanwhile: look again after this one
      return;
    }
    this.retry = false;
    if (!this.due().length) return;
    this.running = true;
    this.retry = true;
    try {
      const now = performance.now();
      if (this.guard.stalled(now) || !this.cluster.leaseValid() || now - this.lastAsk < ASK_EVERY_MS) return;
      this.lastAsk = now;
      const views = await this.readQuorum();
      if (!views || this.guard.stalled(performance.now())) return;
      const all = this.due();
      const agreed = this.guard.agreedGone(new Set(all.map((e) => e.owner)), (id) => this.cluster.memberState(id), views, this.cluster.quorum());
      // Agreed for a lease period (failover_guard.ts): the owner's lease has run out.
      const settled = this.guard.agreedLongEnough(agreed, performance.now());
      const due = all.filter((e) => settled.has(e.owner));
      this.tellAlone(all.map((e) => e.owner).filter((o) => !agreed.has(o)));
      // Owners this member alone holds dead: ask again on the timer (the others may mark them dead later, or they refute).
      this.retry = due.length < all.length;
      if (!due.length) return;
      const me = this.actor.id;
      const epoch = this.actor.map.version + 1;
      let map = this.actor.map;
      const entries: ForkEntry[] = [];
      for (const e of due) {
        const others = (ids: string[] | undefined) => (ids ?? []).filter((id) => id !== me && id !== e.owner);
        const entry = { fork: e.fork, owner: me, epoch, term: epoch, replicas: others(e.replicas), inSync: others(e.inSync) };
        map = map.withEntry(entry);
        entries.push(entry);
      }
      try {
        this.actor.applyMap(map);
      } catch (err) {
        // The map file could not be written (a full disk): nothing was taken; the timer tries again.
        this.retry = true;
        process.stderr.write(`store actor ${me}: could not take ${due.length} fork(s) over: ${(err as Error).message}\n`);
        return;
      }
      for (const e of due) if (this.cluster.memberState(e.owner) === 'dead') this.tookFrom(e.fork, e.owner);
      const from = [...new Set(due.map((e) => e.owner))].join(', ');
      process.stderr.write(`store actor ${me}: promoted to owner of ${due.length} fork(s) of dead ${from} at epoch ${epoch}\n`);
      await pushEntries(this.link, this.cluster, entries);
    } finally {
      this.running = false;
    }
  }

  private tellAlone(owners: string[]): void {
    for (const o of owners) if (!this.alone.has(o)) process.stderr.write(`store actor ${this.actor.id}: holds ${o} dead, but no quorum agrees yet: no failover\n`);
    this.alone.clear();
    for (const o of owners) this.alone.add(o);
  }

  /** Forks whose owner is gone and whose first alive in-sync replica is this member, holding its place in the stream. */
  private due(): ForkEntry[] {
    const me = this.actor.id;
    const gone = (id: string) => id !== me && ['dead', 'left'].includes(this.cluster.memberState(id) ?? '');
    const out: ForkEntry[] = [];
    for (const e of this.actor.map.entries.values()) {
      if (e.owner === me || !gone(e.owner) || !e.inSync?.includes(me) || !this.replicaSide.applied(e.fork)) continue;
      const first = e.inSync.find((id) => id !== e.owner && (id === me || this.cluster.memberState(id) === 'alive'));
      if (first === me) out.push(e);
    }
    return out;
  }

  /**
   * Merge the maps of the alive members and collect their views of the members (`members`, as
   * `store status` reads them); null unless a quorum (this member included) answered.
   */
  private async readQuorum(): Promise<Map<string, MemberState>[] | null> {
    const body = CLUSTER_COMMANDS.members.encodeRequest({});
    const replies = await Promise.all(this.cluster.alivePeerEndpoints().map((ep) => this.link.tryRequest(ep, 'members', body, READ_TIMEOUT_MS)));
    const views: Map<string, MemberState>[] = [];
    for (const rep of replies) {
      if (rep?.code !== 'OK') continue;
      try {
        const answer = CLUSTER_COMMANDS.members.decodeReply(rep.body);
        this.actor.applyMap(ForkMap.fromEntries(answer.forks));
        views.push(new Map(answer.members.map((m) => [m.id, m.state])));
      } catch {
        // an unreadable answer counts as none
      }
    }
    return views.length + 1 >= this.cluster.quorum() ? views : null;
  }
}
