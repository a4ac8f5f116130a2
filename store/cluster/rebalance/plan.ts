// Rebalance as a pure plan: given the members, the forks and their loads, the greedy list of fork moves that evens
// out the members' load (bytes or ops/s). The view it plans from is read by view.ts; `dbslm store rebalance` runs
// the moves.
import type { ClusterView } from './view.js';

export interface Move { fork: string; from: string; to: string; weight: number }
export interface Plan { moves: Move[]; before: Record<string, number>; after: Record<string, number> }

/**
 * Greedy: repeatedly move from the heaviest to the lightest alive member the fork that brings the two closest,
 * until the heaviest is within `tolerance` of the mean or no fork would narrow the gap. With no load at all (a
 * fresh store) fork counts are balanced instead.
 */
export function planRebalance(members: string[], forks: { fork: string; owner: string; weight: number }[], tolerance = 0.1, maxMoves = 1024): Plan {
  if (members.length < 2) return { moves: [], before: {}, after: {} };
  const byCount = forks.every((f) => f.weight === 0);
  const w = (f: { weight: number }) => (byCount ? 1 : f.weight);
  const load = new Map(members.map((m) => [m, 0]));
  const owned = new Map(members.map((m) => [m, [] as { fork: string; weight: number }[]]));
  for (const f of forks) {
    if (!load.has(f.owner)) continue; // forks of dead members cannot be moved live
    load.set(f.owner, load.get(f.owner)! + w(f));
    owned.get(f.owner)!.push({ fork: f.fork, weight: w(f) });
  }
  const before = Object.fromEntries(load);
  const total = [...load.values()].reduce((a, b) => a + b, 0);
  const mean = total / members.length;
  const moves: Move[] = [];
  while (moves.length < maxMoves) {
    const sorted = [...load].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const [heavy, hl] = sorted[0]!;
    const [light, ll] = sorted[sorted.length - 1]!;
    if (hl - mean <= tolerance * mean || hl === ll) break;
    const gap = hl - ll;
    let best: { fork: string; weight: number } | null = null;
    for (const f of owned.get(heavy)!) {
      if (f.weight <= 0 || f.weight >= gap) continue;
      if (!best || Math.abs(gap - 2 * f.weight) < Math.abs(gap - 2 * best.weight)) best = f;
    }
    if (!best) break;
    owned.set(heavy, owned.get(heavy)!.filter((f) => f !== best));
    owned.get(light)!.push(best);
    load.set(heavy, hl - best.weight);
    load.set(light, ll + best.weight);
    moves.push({ fork: best.fork, from: heavy, to: light, weight: byCount ? 0 : best.weight });
  }
  return { moves, before, after: Object.fromEntries(load) };
}

/** The plan for a view: alive members only; weight = bytes or ops/s of each fork. */
export function planFromView(view: ClusterView, by: 'bytes' | 'ops', tolerance = 0.1): Plan {
  const alive = view.members.filter((m) => m.state === 'alive' && !view.unreachable.includes(m.id)).map((m) => m.id);
  const loadOf = new Map(view.loads.map((l) => [l.fork, l]));
  const forks = view.forks.map((f) => {
    const l = loadOf.get(f.fork);
    return { fork: f.fork, owner: f.owner, weight: l ? (by === 'bytes' ? l.bytes : l.opsPerSec) : 0 };
  });
  return planRebalance(alive, forks, tolerance);
}
