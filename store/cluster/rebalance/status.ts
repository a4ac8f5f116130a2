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
    const replicated = view.forks.filter((f) => f.owner === m.id && f.replicas?.length);
    const lagging = replicated.filter((f) => (f.inSync ?? []).length < f.replicas!.length);
    const copies = replicated.length ? ` replicated=${replicated.length} not-all-in-sync=${lagging.length}` : '';
    lines.push(`member ${m.id} ${m.endpoint} state=${m.state} incarnation=${m.incarnation} forks=${owned} ${figures}${copies}`);
    const shown = new Set<string>();
    for (const l of mine) {
      if (!l.keys && !l.opsPerSec && !l.fenced) continue;
      shown.add(l.fork);
      lines.push(`  fork=${l.fork} keys=${l.keys} bytes=${l.bytes} ops/s=${l.opsPerSec}${l.fenced ? ' fenced' : ''}${replicaText(view, l.fork)}`);
    }
    for (const f of lagging) if (!shown.has(f.fork)) lines.push(`  fork=${f.fork}${replicaText(view, f.fork)}`);
  }
  return [...lines, ...deadOwnerNotes(view), ...replicationNotes(view)];
}

/** A fork's replicas, in-sync set and each replica's lag as its owner reports it: ` replicas=b,c in-sync=b lag=b:0,c:12(out)`. */
function replicaText(view: ClusterView, fork: string): string {
  const e = view.forks.find((f) => f.fork === fork);
  if (!e?.replicas?.length) return '';
  const lag = (view.lags ?? []).filter((l) => l.fork === fork).map((l) => `${l.replica}:${l.behind}${l.state === 'in-sync' ? '' : `(${l.state})`}`);
  return ` replicas=${e.replicas.join(',')} in-sync=${(e.inSync ?? []).join(',') || '-'}${lag.length ? ` lag=${lag.join(',')}` : ''}`;
}

/**
 * A cluster of more than one member whose forks have no replicas (replication factor 1, the
 * default) says so, since losing a member's machine then loses its forks (a takeover restarts them
 * empty), which an operator spreading a store over machines may not expect.
 */
export function replicationNotes(view: ClusterView): string[] {
  const members = view.members.filter((m) => m.state !== 'left').length;
  if (members < 2 || view.forks.some((f) => f.replicas?.length)) return [];
  return [`warning: replication factor 1: each fork is kept by its owner alone, so a member whose data dir is lost loses its forks; start the members with --replicas 2 (store/README.md, Replication), back up the data dirs, or export models (dbslm export)`];
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
      replicated: view.forks
        .filter((f) => f.owner === m.id && f.replicas?.length)
        .map((f) => ({ fork: f.fork, replicas: f.replicas, inSync: f.inSync ?? [], lag: (view.lags ?? []).filter((l) => l.fork === f.fork).map(({ replica, behind, state }) => ({ replica, behind, state })) })),
      owned: view.forks.filter((f) => f.owner === m.id).length,
    })),
    unreachable: view.unreachable,
  };
}
