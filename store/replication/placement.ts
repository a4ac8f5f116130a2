// Where a fork's replicas go (issue 10), pure: on members other than the owner and each other, each
// to the alive member holding the fewest copies (owned or replicated) so far, until the fork has
// factor - 1 replicas. A replica on a dead or forgotten member that is out of the in-sync set is
// let go, so the fork gets a live one instead (the cluster restores R after a failover).
import type { ForkEntry } from '../../schemas/fork_map.js';

export interface ReplicaChange {
  fork: string;
  replicas: string[];
  inSync: string[];
}

/**
 * Changes to the entries `self` owns so that each has `factor - 1` replicas where enough alive
 * members exist. `alive`: the members that may take a replica (alive in this member's view, self
 * included or not: it is never chosen); `gone(id)`: the member is dead or forgotten.
 */
export function placeReplicas(entries: Iterable<ForkEntry>, self: string, factor: number, alive: readonly string[], gone: (id: string) => boolean): ReplicaChange[] {
  const all = [...entries];
  const copies = new Map<string, number>(alive.map((id) => [id, 0]));
  for (const e of all) for (const id of [e.owner, ...(e.replicas ?? [])]) if (copies.has(id)) copies.set(id, copies.get(id)! + 1);
  const changes: ReplicaChange[] = [];
  for (const e of all) {
    if (e.owner !== self) continue;
    const inSync = e.inSync ?? [];
    const kept = (e.replicas ?? []).filter((id) => inSync.includes(id) || !gone(id));
    const replicas = [...kept];
    while (replicas.length < factor - 1) {
      let best: string | undefined;
      for (const [id, n] of copies) {
        if (id === self || replicas.includes(id)) continue;
        if (best === undefined || n < copies.get(best)! || (n === copies.get(best)! && id < best)) best = id;
      }
      if (best === undefined) break;
      replicas.push(best);
      copies.set(best, copies.get(best)! + 1);
    }
    if (replicas.length !== (e.replicas ?? []).length || replicas.some((id, i) => id !== e.replicas![i])) changes.push({ fork: e.fork, replicas, inSync });
  }
  return changes;
}
