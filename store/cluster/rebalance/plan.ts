// Rebalance: a greedy plan of fork moves that evens out the members' load (bytes or ops/s), and the cluster view
// that `dbslm store status` and `rebalance` print (members with state and incarnation, forks per member).
import { CLUSTER_COMMANDS } from '../../../schemas/cluster.js';
import { STORE_COMMANDS } from '../../../schemas/store.js';
import type { StoreClient } from '../../client/client.js';
import type { ForkEntry, MemberUpdate } from '../../../schemas/fork_map.js';


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
}
export interface Move { fork: string; from: string; to: string; weight: number }
export interface Plan { moves: Move[]; before: Record<string, number>; after: Record<string, number> }

/** Gathers the view through the member at `endpoint`: its membership, its map, and stats from every live owner. */
export async function clusterView(client: StoreClient, endpoint: string): Promise<ClusterView> {
  const rep = await client.raw(endpoint, 'members', CLUSTER_COMMANDS.members.encodeRequest({}));
  if (rep.code !== 'OK') throw new Error(`members from ${endpoint}: ${rep.code} ${rep.message}`);
  const v = CLUSTER_COMMANDS.members.decodeReply(rep.body);
  const loads: ForkLoad[] = [];
  const unreachable: string[] = [];
  await Promise.all(
    v.members.filter((m) => m.state === 'alive' || m.state === 'suspect').map(async (m) => {
      try {
        const r = await client.raw(m.endpoint, 'stats', STORE_COMMANDS.stats.encodeRequest({}), 3000);
        if (r.code !== 'OK') throw new Error(r.message);
        const s = STORE_COMMANDS.stats.decodeReply(r.body);
        for (const f of s.forks) loads.push({ fork: f.fork, owner: m.id, keys: f.keys, bytes: f.bytes, opsPerSec: f.opsPerSec, fenced: f.fenced });
      } catch {
        unreachable.push(m.id);
      }
    }),
  );
  return { via: v.id, epoch: Math.max(0, ...v.forks.map((f) => f.epoch)), members: v.members, forks: v.forks, loads, unreachable };
}

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

/** Human-readable status lines (the non-JSON form of `dbslm store status`). */
export function formatStatus(view: ClusterView): string[] {
  const lines = [`map epoch=${view.epoch} forks=${view.forks.length} (as seen by ${view.via})`];
  for (const m of view.members) {
    const mine = view.loads.filter((l) => l.owner === m.id);
    const owned = view.forks.filter((f) => f.owner === m.id).length;
    const sum = (k: 'keys' | 'bytes' | 'opsPerSec') => mine.reduce((a, l) => a + l[k], 0);
    const figures = view.unreachable.includes(m.id) || (m.state !== 'alive' && m.state !== 'suspect') ? 'figures=unavailable' : `keys=${sum('keys')} bytes=${sum('bytes')} ops/s=${sum('opsPerSec')}`;
    lines.push(`member ${m.id} ${m.endpoint} state=${m.state} incarnation=${m.incarnation} forks=${owned} ${figures}`);
    for (const l of mine) if (l.keys || l.opsPerSec || l.fenced) lines.push(`  fork=${l.fork} keys=${l.keys} bytes=${l.bytes} ops/s=${l.opsPerSec}${l.fenced ? ' fenced' : ''}`);
  }
  return lines;
}

/** The JSON form of `dbslm store status --json`. */
export function statusJson(view: ClusterView): unknown {
  return {
    epoch: view.epoch,
    via: view.via,
    members: view.members.map((m) => ({
      ...m,
      forks: view.loads.filter((l) => l.owner === m.id).map(({ fork, keys, bytes, opsPerSec, fenced }) => ({ fork, keys, bytes, opsPerSec, fenced })),
      owned: view.forks.filter((f) => f.owner === m.id).length,
    })),
    unreachable: view.unreachable,
  };
}
