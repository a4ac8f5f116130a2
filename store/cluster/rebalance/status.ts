// What `dbslm store status` prints for a cluster view (view.ts): lines for people, or JSON.
import type { ClusterView } from './view.js';

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
