// The cluster layer of one actor: gossip membership, the write lease, live fork moves and the ownership history,
// attached to a StoreActor through its command and map hooks. `dbslm store start` calls attachCluster once the
// actor is bound.
import { CLUSTER_COMMANDS } from '../../schemas/cluster.js';
import { StoreError, type StoreActor } from '../actor/actor.js';
import { Gossip } from './gossip.js';
import { OwnershipHistory } from '../map/ownership_history.js';
import { Moves } from './moves/moves.js';
import type { MoveCluster } from './moves/move_cluster.js';
import { PeerLink } from '../client/peer_link.js';


export interface ClusterOptions {
  /** Endpoints of members to join through (`--join`). */
  seeds: string[];
  /** Bound on the time for the others to mark a crashed member dead (default 5000 ms). */
  deadAfterMs?: number;
}

export class Cluster {
  readonly link: PeerLink;
  readonly gossip: Gossip;
  readonly moves: Moves;
  readonly history: OwnershipHistory;

  constructor(readonly actor: StoreActor, opts: ClusterOptions) {
    // Members share one CURVE key pair, so a member reaches its peers the way clients reach it.
    this.link = new PeerLink({ curveServerKey: actor.opts.curve?.publicKey });
    this.history = new OwnershipHistory(actor.opts.dataDir);
    this.history.observe(actor.map, 'start');
    actor.onMapChange((m) => this.history.observe(m, 'map'));
    this.gossip = new Gossip(
      { id: actor.id, endpoint: actor.endpoint, currentMap: () => actor.map, adoptMap: (m) => void actor.applyMap(m) },
      this.link,
      { seeds: opts.seeds, deadAfterMs: opts.deadAfterMs, dataDir: actor.opts.dataDir },
    );
    this.gossip.onMember = (m) => {
      if (m.state !== 'left' && m.id !== actor.id) actor.members.set(m.id, m.endpoint);
    };
    this.moves = new Moves(actor, moveClusterOf(this.gossip), this.link);
    // An owner writes only while a quorum of members acked it recently (see Swim.leaseValid): a member that was
    // frozen or cut off cannot write a fork that a takeover gave away meanwhile.
    actor.writeGate = () =>
      this.gossip.swim.leaseValid()
        ? null
        : new StoreError('FENCED', `actor ${actor.id} holds no write lease (no quorum of members acked it within ${this.gossip.swim.leaseMs} ms); retry shortly`, true);
  }

  start(): void {
    const a = this.actor;
    a.registerCommand('gossip', (body) => this.gossip.handle(body));
    a.registerCommand('history', () => CLUSTER_COMMANDS.history.encodeReply({ id: a.id, rows: this.history.rows() }));
    a.registerCommand('members', () =>
      CLUSTER_COMMANDS.members.encodeReply({
        id: a.id,
        lease: this.gossip.swim.leaseValid(),
        deadAfterMs: this.gossip.swim.deadAfterMs,
        members: this.gossip.members().map(({ id, endpoint, incarnation, state }) => ({ id, endpoint, incarnation, state })),
        forks: [...a.map.entries.values()],
      }),
    );
    this.moves.register();
    this.gossip.start();
  }

  stop(): void {
    this.gossip.stop();
    this.link.close();
  }
}

/** What moves see of the cluster, read from gossip's membership and lease. */
function moveClusterOf(gossip: Gossip): MoveCluster {
  const swim = gossip.swim;
  return {
    leaseValid: () => swim.leaseValid(),
    get leaseMs() {
      return swim.leaseMs;
    },
    quorum: () => swim.quorum(),
    memberState: (id) => swim.get(id)?.state,
    endpointOf: (id) => gossip.endpointOf(id),
    alivePeerEndpoints: () => swim.alivePeers().map((m) => m.endpoint),
    memberIds: () => gossip.members().map((m) => m.id),
  };
}

export function attachCluster(actor: StoreActor, opts: ClusterOptions): Cluster {
  const c = new Cluster(actor, opts);
  c.start();
  return c;
}
