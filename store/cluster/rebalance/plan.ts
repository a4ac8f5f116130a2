// Rebalance as a pure plan: given the members, the forks with their owners and replicas, and their loads, the greedy
// list of moves that evens out the members' load (bytes or ops/s). The view it plans from is read by view.ts;
// `dbslm store rebalance` runs the moves.
//
// With replicas (issue 10) it plans in two passes, each greedy from the heaviest to the lightest alive member:
// 1. owners, by handovers only: a fork goes to one of its in-sync replicas, which holds the rows already (nothing is
//    copied; the old owner becomes the replica), so the owners' load evens out first at no cost;
// 2. copies (owned or replicated, each holding the fork's rows and applying its writes): a replica moves to a member
//    holding no copy of the fork (`move --from`), and a fork without replicas moves live as before. The owner's copy
//    of a replicated fork is not moved live here: the target would take it without replicas and copy R - 1 new ones;
// 3. owners again, by handovers: the members that got replicas in pass 2 (in sync once their moves end) can now
//    take forks over.
// A member never holds two copies of one fork, in the plan or after it. Without replicas the first pass plans
// nothing and the second is the owners' plan of before.
import type { ClusterView } from './view.js';

/** `handover`: to an in-sync replica (a plain move the owner carries out as a handover); `replica`: `from` is a replica. */
export interface Move { fork: string; from: string; to: string; weight: number; kind: 'move' | 'handover' | 'replica' }
export interface Plan {
  moves: Move[];
  /** Copies' load per member (owned and replicated forks), before and after the moves. */
  before: Record<string, number>;
  after: Record<string, number>;
  /** Owned forks' load per member, before and after. */
  owned: { before: Record<string, number>; after: Record<string, number> };
}
export interface PlanFork { fork: string; owner: string; weight: number; replicas?: string[]; inSync?: string[] }

/**
 * Greedy: repeatedly move from the heaviest to the lightest alive member the fork that brings the two closest,
 * until the heaviest is within `tolerance` of the mean or no fork would narrow the gap. With no load at all (a
 * fresh store) fork counts are balanced instead.
 */
export function planRebalance(members: string[], input: PlanFork[], tolerance = 0.1, maxMoves = 1024): Plan {
  const none = { moves: [], before: {}, after: {}, owned: { before: {}, after: {} } };
  if (members.length < 2) return none;
  const byCount = input.every((f) => f.weight === 0);
  // Forks of dead members cannot be moved live; their replicas are left where they are too.
  const forks = input
    .filter((f) => members.includes(f.owner))
    .map((f) => ({ fork: f.fork, owner: f.owner, weight: byCount ? 1 : f.weight, replicas: [...(f.replicas ?? [])], inSync: [...(f.inSync ?? [])] }));
  const ownedLoad = () => loadOf(members, forks, (f) => [f.owner]);
  const copiesLoad = () => loadOf(members, forks, (f) => [f.owner, ...f.replicas]);
  const before = copiesLoad();
  const owned = { before: ownedLoad(), after: {} as Record<string, number> };
  const moves: Move[] = [];
  const w = (f: { weight: number }) => (byCount ? 0 : f.weight);

  // 1 and 3. Owners, by handovers: `from` owns the fork, `to` is one of its in-sync replicas.
  const handovers = () =>
    greedy(members, ownedLoad, tolerance, maxMoves - moves.length, (heavy, light) => forks.filter((f) => f.owner === heavy && f.inSync.includes(light)), (f, heavy, light) => {
      f.owner = light;
      f.replicas = swap(f.replicas, light, heavy);
      f.inSync = swap(f.inSync, light, heavy);
      moves.push({ fork: f.fork, from: heavy, to: light, weight: w(f), kind: 'handover' });
    });
  handovers();
  // 2. Copies: a replica of `heavy`'s, or a fork without replicas, to a member holding no copy of it.
  const holds = (f: (typeof forks)[number], id: string) => f.owner === id || f.replicas.includes(id);
  const movable = (heavy: string, light: string) => forks.filter((f) => !holds(f, light) && (f.replicas.includes(heavy) || (f.owner === heavy && !f.replicas.length)));
  greedy(members, copiesLoad, tolerance, maxMoves - moves.length, movable, (f, heavy, light) => {
    if (f.owner === heavy) {
      f.owner = light;
      moves.push({ fork: f.fork, from: heavy, to: light, weight: w(f), kind: 'move' });
      return;
    }
    f.replicas = swap(f.replicas, heavy, light);
    f.inSync = f.inSync.includes(heavy) ? swap(f.inSync, heavy, light) : f.inSync; // a replica move ends with its target in sync
    moves.push({ fork: f.fork, from: heavy, to: light, weight: w(f), kind: 'replica' });
  });
  handovers();
  owned.after = ownedLoad();
  return { moves, before, after: copiesLoad(), owned };
}

function loadOf<F extends { weight: number }>(members: string[], forks: F[], holders: (f: F) => string[]): Record<string, number> {
  const load = Object.fromEntries(members.map((m) => [m, 0]));
  for (const f of forks) for (const id of holders(f)) if (id in load) load[id] += f.weight;
  return load;
}

function swap(ids: string[], out: string, into: string): string[] {
  return ids.map((id) => (id === out ? into : id));
}

/**
 * One greedy pass: while the heaviest is past the tolerance, move the candidate that brings it and the lightest
 * closest; if the lightest can take none (it holds a copy of each, or is no in-sync replica), the next lightest.
 */
function greedy<F extends { weight: number }>(
  members: string[],
  load: () => Record<string, number>,
  tolerance: number,
  maxMoves: number,
  candidates: (heavy: string, light: string) => F[],
  apply: (f: F, heavy: string, light: string) => void,
): void {
  for (let n = 0; n < maxMoves; n++) {
    const l = load();
    const mean = members.reduce((s, m) => s + l[m]!, 0) / members.length;
    const sorted = [...members].sort((a, b) => l[b]! - l[a]! || (a < b ? -1 : 1));
    const heavy = sorted[0]!;
    if (l[heavy]! - mean <= tolerance * mean) return;
    let moved = false;
    for (const light of sorted.slice(1).reverse()) {
      const gap = l[heavy]! - l[light]!;
      let best: F | null = null;
      for (const f of candidates(heavy, light)) {
        if (f.weight <= 0 || f.weight >= gap) continue;
        if (!best || Math.abs(gap - 2 * f.weight) < Math.abs(gap - 2 * best.weight)) best = f;
      }
      if (!best) continue;
      apply(best, heavy, light);
      moved = true;
      break;
    }
    if (!moved) return;
  }
}

/** The plan for a view: alive members only; weight = bytes or ops/s of each fork, as its owner reports them. */
export function planFromView(view: ClusterView, by: 'bytes' | 'ops', tolerance = 0.1): Plan {
  const alive = view.members.filter((m) => m.state === 'alive' && !view.unreachable.includes(m.id)).map((m) => m.id);
  const loadOf = new Map(view.loads.map((l) => [`${l.fork}@${l.owner}`, l]));
  const forks = view.forks.map((f) => {
    const l = loadOf.get(`${f.fork}@${f.owner}`);
    return { fork: f.fork, owner: f.owner, replicas: f.replicas, inSync: f.inSync, weight: l ? (by === 'bytes' ? l.bytes : l.opsPerSec) : 0 };
  });
  return planRebalance(alive, forks, tolerance);
}
