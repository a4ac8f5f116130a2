// The fork-map side of an owner's replication (issue 10): the changes its in-sync machines ask for
// (drop a lagging replica, admit one that caught up) and the placement of missing replicas
// (placement.ts), made in one map change per tick (every changed entry at epoch version + 1,
// keeping its term), adopted here and pushed to every alive member (`map-put`).
//
// A drop is confirmed to the machine only once a quorum holds the entry without the replica: a
// failover promotes from the in-sync set it finds, so writes the dropped replica lacks are not
// acknowledged before the members that would pick the new owner know it is out. Until then the
// change is pushed again every tick.
import type { StoreActor } from '../actor/actor.js';
import type { PeerLink } from '../client/peer_link.js';
import { pushEntries } from '../cluster/moves/map_push.js';
import type { MoveCluster } from '../cluster/moves/move_cluster.js';
import type { InSyncAction } from './in_sync.js';
import type { OwnerStreams } from './owner_stream.js';
import { placeReplicas, type ReplicaChange } from './placement.js';

export class ReplicaMap {
  /** Per fork: replicas to take out of the in-sync set, and to put in. */
  private readonly asked = new Map<string, { drop: Set<string>; admit: Set<string> }>();
  /** Drops adopted here but not yet confirmed by a quorum, per fork. */
  private readonly unconfirmed = new Map<string, Set<string>>();
  private pushing = false;

  constructor(
    private readonly actor: StoreActor,
    private readonly link: PeerLink,
    private readonly cluster: MoveCluster,
    private readonly streams: () => OwnerStreams,
    private readonly factor: number,
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

  /** Make the changes asked for and the placements due, while this member holds its lease. */
  tick(): void {
    if (this.pushing || !this.cluster.leaseValid()) return;
    const changes = new Map<string, ReplicaChange>();
    for (const [fork, a] of this.asked) {
      const e = this.actor.map.get(fork);
      if (!e || e.owner !== this.actor.id) continue;
      const replicas = e.replicas ?? [];
      const inSync = (e.inSync ?? []).filter((id) => !a.drop.has(id));
      for (const id of a.admit) if (replicas.includes(id) && !inSync.includes(id)) inSync.push(id);
      changes.set(fork, { fork, replicas, inSync });
      if (a.drop.size) this.unconfirmed.set(fork, new Set([...(this.unconfirmed.get(fork) ?? []), ...a.drop]));
    }
    this.asked.clear();
    if (this.factor > 1) {
      const alive = this.cluster.memberIds().filter((id) => id === this.actor.id || this.cluster.memberState(id) === 'alive');
      const gone = (id: string) => ['dead', 'left', undefined].includes(this.cluster.memberState(id));
      const entries = [...this.actor.map.entries.values()].map((e) => {
        const c = changes.get(e.fork);
        return c ? { ...e, replicas: c.replicas, inSync: c.inSync } : e;
      });
      for (const c of placeReplicas(entries, this.actor.id, this.factor, alive, gone)) changes.set(c.fork, c);
    }
    if (changes.size) {
      this.actor.applyMap(this.actor.map.withReplicaChanges([...changes.values()]));
      // Everyone learns at once rather than at the pace of gossip (the drops are pushed again below until a quorum has them).
      if (!this.unconfirmed.size) void pushEntries(this.link, this.cluster, [...changes.keys()].map((f) => this.actor.map.get(f)!));
    }
    if (this.unconfirmed.size) void this.confirm();
  }

  /** Push the entries whose drops await a quorum; once one holds them, the machines stop waiting for the dropped. */
  private async confirm(): Promise<void> {
    this.pushing = true;
    try {
      const forks = [...this.unconfirmed.keys()];
      const entries = forks.map((f) => this.actor.map.get(f)).filter((e) => e !== undefined);
      const adopted = await pushEntries(this.link, this.cluster, entries);
      if (adopted + 1 < this.cluster.quorum()) return;
      for (const fork of forks) {
        const dropped = this.unconfirmed.get(fork);
        this.unconfirmed.delete(fork);
        const e = this.actor.map.get(fork);
        if (dropped && e) this.streams().confirmDrops(fork, [...dropped].filter((id) => !(e.inSync ?? []).includes(id)));
      }
    } finally {
      this.pushing = false;
    }
  }
}
