// What `dbslm store status` prints for a cluster view (view.ts): lines for people, or JSON; and what status and
// `dbslm store rebalance` say of dead members that still own forks.
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
  return [...lines, ...deadOwnerNotes(view), ...replicationNotes(view)];
}

/**
 * A cluster of more than one member keeps each fork on one member only (replication factor 1:
 * the store has no replicas yet): it says so, since losing a member's machine then loses its forks
 * (a takeover restarts them empty), which an operator spreading a store over machines may not expect.
 */
export function replicationNotes(view: ClusterView): string[] {
  const members = view.members.filter((m) => m.state !== 'left').length;
  if (members < 2) return [];
  return [`warning: replication factor 1: each fork is kept by its owner alone (the store has no replicas yet), so a member whose data dir is lost loses its forks; back up the data dirs, or export models (dbslm export)`];
}

/**
 * One line per dead (or forgotten) member that still owns forks: those forks are not served, and no rebalance can
 * move them, since a live move needs the owner's rows; a takeover gives them to live members, empty.
 */
export function deadOwnerNotes(view: ClusterView): string[] {
  const via = view.members.find((m) => m.id === view.via)?.endpoint ?? 'ANY_MEMBER';
  const notes: string[] = [];
  for (const m of view.members) {
    if (m.state !== 'dead' && m.state !== 'left') continue;
    const owned = view.forks.filter((f) => f.owner === m.id).length;
    if (!owned) continue;
    const gone = m.state === 'dead' ? 'dead' : 'forgotten';
    const restart = m.state === 'dead' ? `, or restart ${m.id} on its data dir` : '';
    notes.push(`member ${m.id} is ${gone} and owns ${owned} fork${owned === 1 ? '' : 's'}: they are not served and cannot move (a move needs their rows); take them over with \`dbslm store takeover ${m.id} --connect ${via}\` (they restart empty)${restart}`);
  }
  return notes;
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
