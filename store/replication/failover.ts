// Automatic failover (issue 10): when a fork's owner is dead (SWIM) or forgotten, the first member
// of the fork's in-sync set that is alive promotes itself: one map change for all such forks, each
// with a new epoch that is also its new term (the replication stream's number), the dead owner out
// of the replicas, pushed to every alive member. Clients follow MOVED as for any new owner, and the
// old owner, if it returns, finds the newer epoch and serves nothing of the fork (its writes get
// MOVED; its stream is refused by the replicas, replica_side.ts).
//
// Only a member holding its lease (a quorum hears it) promotes, and only after reading the map of
// the alive members: an owner drops a lagging replica from the in-sync set only once a quorum has
// the drop (replica_map.ts), so a quorum read finds it and a dropped replica never takes the fork
// with writes it lacks. Every in-sync replica computes the same first alive member from the same
// entry; two views that disagree (a member alive for one, dead for the other) are the partitions
// this randomized tests are to cover.
import { ADMIN_COMMANDS } from '../../schemas/admin.js';
import type { ForkEntry } from '../../schemas/fork_map.js';
import type { StoreActor } from '../actor/actor.js';
import type { PeerLink } from '../client/peer_link.js';
import { pushEntries } from '../cluster/moves/map_push.js';
import type { MoveCluster } from '../cluster/moves/move_cluster.js';
import { ForkMap } from '../map/fork_map.js';
import type { ReplicaSide } from './replica_side.js';

const READ_TIMEOUT_MS = 1000;

export class Failover {
  private running = false;
  /** A check found forks to take but could not yet (no lease, no quorum answered): the timer tries again. */
  retry = false;

  constructor(
    private readonly actor: StoreActor,
    private readonly link: PeerLink,
    private readonly cluster: MoveCluster,
    private readonly replicaSide: ReplicaSide,
  ) {}

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
      if (!this.cluster.leaseValid() || !(await this.readQuorum())) return;
      this.retry = false;
      const due = this.due();
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
      const from = [...new Set(due.map((e) => e.owner))].join(', ');
      process.stderr.write(`store actor ${me}: promoted to owner of ${due.length} fork(s) of dead ${from} at epoch ${epoch}\n`);
      await pushEntries(this.link, this.cluster, entries);
    } finally {
      this.running = false;
    }
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

  /** Merge the maps of the alive members; false unless a quorum (this member included) answered. */
  private async readQuorum(): Promise<boolean> {
    const body = ADMIN_COMMANDS.map.encodeRequest({});
    const replies = await Promise.all(this.cluster.alivePeerEndpoints().map((ep) => this.link.tryRequest(ep, 'map', body, READ_TIMEOUT_MS)));
    let answered = 1;
    for (const rep of replies) {
      if (rep?.code !== 'OK') continue;
      try {
        this.actor.applyMap(ForkMap.fromEntries(ADMIN_COMMANDS.map.decodeReply(rep.body).map.entries));
        answered++;
      } catch {
        // an unreadable map counts as no answer
      }
    }
    return answered >= this.cluster.quorum();
  }
}
