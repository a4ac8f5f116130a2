// The cluster as `dbslm store status` and `rebalance` see it: one member's membership and fork map, and per-fork
// figures from every live owner, read through the store client. The plan (plan.ts) and the status lines
// (status.ts) are pure functions of this view.
import { CLUSTER_COMMANDS } from '../../../schemas/cluster.js';
import type { ForkEntry, MemberUpdate } from '../../../schemas/fork_map.js';
import { REPLICATION_COMMANDS, type ReplicaLag } from '../../../schemas/replication.js';
import { STORE_COMMANDS } from '../../../schemas/store.js';
import type { StoreClient } from '../../client/client.js';

export interface ForkLoad { fork: string; owner: string; keys: number; bytes: number; opsPerSec: number; fenced: boolean }

export interface ClusterView {
  /** The member that answered, the map epoch (newest entry) and its members as it sees them. */
  via: string;
  epoch: number;
  members: MemberUpdate[];
  forks: ForkEntry[];
  /** Per-fork figures from each reachable owner. */
  loads: ForkLoad[];
  /** Members whose stats could not be read (dead, frozen, overloaded). */
  unreachable: string[];
  /** (replication) Each replica's lag behind its fork's owner, as the owners report it. */
  lags?: ReplicaLag[];
}

/** Gathers the view through the member at `endpoint`: its membership, its map, and stats from every live owner. */
export async function clusterView(client: StoreClient, endpoint: string): Promise<ClusterView> {
  const rep = await client.raw(endpoint, 'members', CLUSTER_COMMANDS.members.encodeRequest({}));
  if (rep.code !== 'OK') throw new Error(`members from ${endpoint}: ${rep.code} ${rep.message}`);
  const v = CLUSTER_COMMANDS.members.decodeReply(rep.body);
  const loads: ForkLoad[] = [];
  const unreachable: string[] = [];
  const lags: ReplicaLag[] = [];
  await Promise.all(
    v.members.filter((m) => m.state === 'alive' || m.state === 'suspect').map(async (m) => {
      try {
        const r = await client.raw(m.endpoint, 'stats', STORE_COMMANDS.stats.encodeRequest({}), 3000);
        if (r.code !== 'OK') throw new Error(r.message);
        const s = STORE_COMMANDS.stats.decodeReply(r.body);
        for (const f of s.forks) loads.push({ fork: f.fork, owner: m.id, keys: f.keys, bytes: f.bytes, opsPerSec: f.opsPerSec, fenced: f.fenced });
        if (v.forks.some((f) => f.owner === m.id && f.replicas?.length)) {
          const l = await client.raw(m.endpoint, 'repl-status', REPLICATION_COMMANDS['repl-status'].encodeRequest({}), 3000);
          if (l.code === 'OK') lags.push(...REPLICATION_COMMANDS['repl-status'].decodeReply(l.body).lags);
        }
      } catch {
        unreachable.push(m.id);
      }
    }),
  );
  return { via: v.id, epoch: Math.max(0, ...v.forks.map((f) => f.epoch)), members: v.members, forks: v.forks, loads, unreachable, lags };
}
