// Where a fork's replicas go (issue 10), pure: on members other than the owner and each other, each
// to the alive member holding the fewest copies (owned or replicated) so far, until the fork has
// factor - 1 replicas. A replica on a dead or forgotten member that is out of the in-sync set is
// let go, so the fork gets a live one instead (the cluster restores R after a failover).
//
// A returning old owner (the member a failover took the fork from, alive again) becomes a replica
// of the fork even when R was restored meanwhile: it is placed on top of the full set, and once it
// is in sync the stand-in gives way, first out of the in-sync set (a drop, which the caller makes
// only once a quorum holds it, as for a lagging replica), then out of the replicas. So the member
// comes back to the layout it had, and the rows it still holds of the fork are replaced by the
// owner's snapshot rather than left unserved. A replica moved by the operator (`store move --from`)
// joins the same way, and the replica it replaces is the one that gives way.
import type { ForkEntry } from '../../schemas/fork_map.js';

export interface ReplicaChange {
  fork: string;
  replicas: string[];
  inSync: string[];
}

/** A member to make a replica of a fork on top of a full set: a returning old owner, or a replica move's target. */
export interface Joining {
  member: string;
  /** The replica that gives way once `member` is in sync (a replica move's source); absent: the most loaded. */
  replacing?: string;
}

export interface Placement {
  /** New replica lists (and in-sync sets without the replicas let go) for the owner's entries. */
  changes: ReplicaChange[];
  /** In-sync replicas to take out of the in-sync set (a confirmed drop) before they can be let go: one more than R - 1 are in sync. */
  drops: { fork: string; replica: string }[];
}

/**
 * Changes to the entries `self` owns so that each has `factor - 1` replicas where enough alive
 * members exist. `alive`: the members that may take a replica (alive in this member's view, self
 * included or not: it is never chosen); `gone(id)`: the member is dead or forgotten; `joining`: per
 * fork, a member to make a replica of it while alive (placement.ts's header says why).
 */
export function placeReplicas(
  entries: Iterable<ForkEntry>,
  self: string,
  factor: number,
  alive: readonly string[],
  gone: (id: string) => boolean,
  joining: ReadonlyMap<string, Joining> = new Map(),
): Placement {
  const all = [...entries];
  const copies = new Map<string, number>(alive.map((id) => [id, 0]));
  for (const e of all) for (const id of [e.owner, ...(e.replicas ?? [])]) if (copies.has(id)) copies.set(id, copies.get(id)! + 1);
  const count = (id: string) => copies.get(id) ?? Infinity; // a gone member's copy is the first to give way
  const add = (id: string, n: number) => copies.has(id) && copies.set(id, copies.get(id)! + n);
  const mostLoaded = (ids: string[]) => ids.reduce((x, y) => (count(y) > count(x) || (count(y) === count(x) && y > x) ? y : x));
  const placement: Placement = { changes: [], drops: [] };
  for (const e of all) {
    if (e.owner !== self) continue;
    const inSync = e.inSync ?? [];
    const old = e.replicas ?? [];
    const replicas = old.filter((id) => inSync.includes(id) || !gone(id));
    const join = joining.get(e.fork);
    const preferred = join !== undefined && join.member !== self && copies.has(join.member) ? join.member : undefined;
    // The replica named to give way goes first, else the most loaded.
    const leaving = (ids: string[]) => (preferred !== undefined && join!.replacing !== undefined && ids.includes(join!.replacing) ? join!.replacing : mostLoaded(ids));
    if (preferred !== undefined && !replicas.includes(preferred)) {
      replicas.push(preferred);
      add(preferred, 1);
    }
    while (replicas.length < factor - 1) {
      let best: string | undefined;
      for (const [id, n] of copies) {
        if (id === self || replicas.includes(id)) continue;
        if (best === undefined || n < copies.get(best)! || (n === copies.get(best)! && id < best)) best = id;
      }
      if (best === undefined) break;
      replicas.push(best);
      add(best, 1);
    }
    // More than R - 1 (a joining member on top of a full set): let go of the spare replicas out of
    // the in-sync set; an in-sync one is dropped first, and only while the in-sync set stays full
    // without it (the joining member caught up).
    for (;;) {
      if (replicas.length <= factor - 1) break;
      const spare = replicas.filter((id) => id !== preferred && !inSync.includes(id));
      if (!spare.length) break;
      const out = leaving(spare);
      replicas.splice(replicas.indexOf(out), 1);
      add(out, -1);
    }
    const kept = inSync.filter((id) => replicas.includes(id));
    if (replicas.length > factor - 1 && kept.length > factor - 1) {
      const standIns = kept.filter((id) => id !== preferred);
      if (standIns.length) placement.drops.push({ fork: e.fork, replica: leaving(standIns) });
    }
    if (replicas.length !== old.length || replicas.some((id, i) => id !== old[i])) placement.changes.push({ fork: e.fork, replicas, inSync: kept });
  }
  return placement;
}
