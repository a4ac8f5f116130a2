// Replication of one member (issue 10), attached by the cluster layer: its side as a replica
// (replica_side.ts) with the reads it serves (replica_reads.ts), its streams as an owner
// (owner_stream.ts) with their map changes (replica_map.ts), and automatic failover (failover.ts),
// driven by one timer and by the map and membership changes. With `factor` 1 (the default) it only answers the replication commands and
// promotes for forks whose entries list it in sync; no fork is watched and no reply waits.
import { REPLICATION_COMMANDS } from '../../schemas/replication.js';
import type { StoreActor } from '../actor/actor.js';
import type { PeerLink } from '../client/peer_link.js';
import type { MoveCluster } from '../cluster/moves/move_cluster.js';
import { Failover } from './failover.js';
import { OwnerStreams } from './owner_stream.js';
import { ReplicaMap } from './replica_map.js';
import { ReplicaReads } from './replica_reads.js';
import { ReplicaSide } from './replica_side.js';

const TICK_MS = 50;

export interface ReplicationOptions {
  /** Copies of each fork, the owner's included (`--replicas`). */
  factor: number;
  /** How long a replica may leave a write unacknowledged before it drops out of the in-sync set. */
  lagBoundMs: number;
  /** SWIM's dead bound: a member that stalled waits this long before any failover or change of its forks' replicas. */
  deadAfterMs: number;
  /** A move of the fork (or the resolution of its cut-over) runs on this member: its entry is the move's to change. */
  moving: (fork: string) => boolean;
}

export class Replication {
  readonly replicaSide: ReplicaSide;
  readonly streams: OwnerStreams;
  private readonly replicaMap: ReplicaMap;
  private readonly failover: Failover;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly actor: StoreActor,
    link: PeerLink,
    cluster: MoveCluster,
    opts: ReplicationOptions,
  ) {
    this.replicaSide = new ReplicaSide(actor);
    this.replicaMap = new ReplicaMap(actor, link, cluster, () => this.streams, opts.factor, opts.moving, () => this.failover.stalled());
    const hooks = {
      onActions: (fork: string, actions: Parameters<ReplicaMap['ask']>[1]) => this.replicaMap.ask(fork, actions),
      endpointOf: (id: string) => cluster.endpointOf(id),
      alive: (id: string) => cluster.memberState(id) === 'alive',
    };
    this.streams = new OwnerStreams(actor, link, this.replicaSide, hooks, opts);
    this.failover = new Failover(actor, link, cluster, this.replicaSide, opts.deadAfterMs, (fork, owner) => this.replicaMap.formerOwner(fork, owner));
  }

  start(): void {
    this.replicaSide.register();
    new ReplicaReads(this.actor, this.replicaSide, () => this.streams).register();
    this.actor.registerCommand('repl-status', () =>
      REPLICATION_COMMANDS['repl-status'].encodeReply({ lags: this.streams.lag().flatMap(({ fork, lag }) => lag.map((l) => ({ fork, replica: l.replica, behind: l.behind, state: l.state }))) }),
    );
    this.actor.onMapChange(() => this.streams.sync());
    this.streams.sync();
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  /** `store move --from`: see ReplicaMap.moveReplica. */
  moveReplica(fork: string, from: string, to: string, timeoutMs: number): Promise<number> {
    return this.replicaMap.moveReplica(fork, from, to, timeoutMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** A member changed state: a dead owner's forks may be this member's to take now. */
  memberChanged(): void {
    void this.failover.check();
  }

  private tick(): void {
    const now = performance.now();
    this.failover.beat(now);
    this.streams.tick(now);
    this.replicaMap.tick();
    if (this.failover.retry) void this.failover.check();
  }
}
