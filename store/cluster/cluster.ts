// The cluster layer of one actor, attached to a StoreActor through its command and map hooks once the actor is
// bound (`dbslm store start` calls attachCluster):
//   - gossip (SWIM over the peer link) keeps the member list and spreads the fork map;
//   - the write lease, fed by what gossip observes, gates every write;
//   - live fork moves, which see membership and the lease through MoveCluster;
//   - the ownership history records every (fork, epoch, owner) this actor adopts;
//   - forgetting a dead member for good (`forget`), so the quorum shrinks;
//   - replication and automatic failover (store/replication/), with `replicas` copies of each fork.
import { CLUSTER_COMMANDS } from '../../schemas/cluster.js';
import type { StoreActor } from '../actor/actor.js';
import { StoreError } from '../protocol/errors.js';
import { PeerLink } from '../client/peer_link.js';
import { OwnershipHistory } from '../map/ownership_history.js';
import { Forgetting } from './forget.js';
import { Gossip } from './gossip.js';
import { WriteLease, leaseMsFor } from './lease.js';
import { noLeaseMessage } from './lease_refusal.js';
import { DEFAULT_DEAD_AFTER_MS } from './swim.js';
import { Moves } from './moves/moves.js';
import { Replication } from '../replication/replication.js';
import type { MoveCluster } from './moves/move_cluster.js';

export interface ClusterOptions {
  /** Endpoints of members to join through (`--join`). */
  seeds: string[];
  /** Bound on the time for the others to mark a crashed member dead (default 5000 ms). */
  deadAfterMs?: number;
  /** Copies of each fork this member owns, its own included (`--replicas`, default 1: no replication). */
  replicas?: number;
}

export function attachCluster(actor: StoreActor, opts: ClusterOptions): Cluster {
  const cluster = new Cluster(actor, opts);
  cluster.start();
  return cluster;
}

export class Cluster {
  readonly link: PeerLink;
  readonly history: OwnershipHistory;
  readonly lease: WriteLease;
  readonly gossip: Gossip;
  readonly moves: Moves;
  readonly replication: Replication;
  private readonly forgetting: Forgetting;

  constructor(
    readonly actor: StoreActor,
    opts: ClusterOptions,
  ) {
    const deadAfterMs = opts.deadAfterMs ?? DEFAULT_DEAD_AFTER_MS;
    // Members share one CURVE key pair, so a member reaches its peers the way clients reach it.
    this.link = new PeerLink({ curveServerKey: actor.opts.curve?.publicKey });
    this.history = new OwnershipHistory(actor.opts.dataDir);
    this.history.observe(actor.map, 'start');
    actor.onMapChange((m) => this.history.observe(m, 'map'));
    this.lease = new WriteLease(leaseMsFor(deadAfterMs));
    this.gossip = new Gossip(
      { id: actor.id, endpoint: actor.endpoint, currentMap: () => actor.map, adoptMap: (m) => void actor.applyMap(m) },
      this.link,
      this.lease,
      { seeds: opts.seeds, deadAfterMs, dataDir: actor.opts.dataDir },
    );
    this.gossip.onMember = (m) => {
      if (m.state !== 'left' && m.id !== actor.id) actor.members.set(m.id, m.endpoint);
      this.replication.memberChanged();
    };
    this.gossip.swim.onForgotten = () => {
      this.lease.revoke();
      process.stderr.write(`actor ${actor.id}: the cluster forgot this member (dbslm store forget); it serves nothing from now on. Start it afresh with a new --id and an empty --data dir to rejoin\n`);
    };
    this.forgetting = new Forgetting(actor, this.gossip, this.lease, this.link);
    // Handovers to in-sync replicas ask the replication (made below) for the stream's place.
    this.moves = new Moves(actor, moveClusterOf(this.gossip, this.lease), this.link, {
      caughtUp: (fork, ms) => this.replication.streams.caughtUp(fork, ms),
      becomeReplica: (fork, term, seq) => this.replication.replicaSide.adoptPlace(fork, term, seq),
      moveReplica: (fork, from, to, ms) => this.replication.moveReplica(fork, from, to, ms),
    });
    // The lag bound is the lease's: a replica that stalls writes longer than an owner without a quorum would is let go.
    this.replication = new Replication(actor, this.link, moveClusterOf(this.gossip, this.lease), {
      factor: opts.replicas ?? 1,
      lagBoundMs: this.lease.durationMs,
      deadAfterMs,
      moving: (fork) => this.moves.busy(fork),
    });
    actor.writeGate = () => this.refuseWithoutLease('write');
    actor.readGate = () => this.refuseWithoutLease('read');
  }

  start(): void {
    const a = this.actor;
    a.registerCommand('gossip', (body) => this.gossip.handle(body), { control: true });
    a.registerCommand('history', () => CLUSTER_COMMANDS.history.encodeReply({ id: a.id, rows: this.history.rows() }));
    a.registerCommand('members', () => this.membersReply(), { control: true });
    a.registerCommand('forget', (body) => this.forgetting.handle(body));
    this.moves.register();
    this.replication.start();
    this.gossip.start();
  }

  stop(): void {
    this.replication.stop();
    this.gossip.stop();
    this.link.close();
  }

  /**
   * An owner serves its forks only while a quorum of members acked it recently (store/cluster/lease.ts): a member
   * that was frozen or cut off can neither write a fork that a takeover gave away meanwhile nor answer reads of it
   * with rows that are no longer the newest. The refusal names the members it waits for and what to do about dead ones.
   */
  private refuseWithoutLease(what: 'read' | 'write'): StoreError | null {
    if (this.lease.valid()) return null;
    const self = { id: this.actor.id, endpoint: this.actor.endpoint, forgotten: this.gossip.swim.forgotten };
    return new StoreError('FENCED', noLeaseMessage(self, what, this.lease, (id) => this.gossip.memberState(id)), true);
  }

  /** The `members` command: this member's view of the cluster (`dbslm store status` reads it). */
  private membersReply(): Buffer {
    return CLUSTER_COMMANDS.members.encodeReply({
      id: this.actor.id,
      lease: this.lease.valid(),
      deadAfterMs: this.gossip.swim.deadAfterMs,
      members: this.gossip.members().map(({ id, endpoint, incarnation, state }) => ({ id, endpoint, incarnation, state })),
      forks: [...this.actor.map.entries.values()],
    });
  }
}

/** What moves see of the cluster: gossip's membership and the write lease. */
function moveClusterOf(gossip: Gossip, lease: WriteLease): MoveCluster {
  return {
    leaseValid: () => lease.valid(),
    leaseMs: lease.durationMs,
    quorum: () => lease.quorum(),
    memberState: (id) => gossip.memberState(id),
    endpointOf: (id) => gossip.endpointOf(id),
    alivePeerEndpoints: () => gossip.alivePeerEndpoints(),
    memberIds: () => gossip.members().map((m) => m.id),
  };
}
