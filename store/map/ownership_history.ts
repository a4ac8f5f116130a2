// Ownership history of one actor: every (fork, epoch, owner) it ever adopted, whether by its own move, a peer's
// commit or gossip. Appended to DIR/ownership.jsonl so the "one owner per fork per epoch" invariant can be checked
// across all members after the fact, including across restarts.
import fs from 'node:fs';
import path from 'node:path';
import type { ForkMap } from './fork_map.js';

export interface OwnershipRow { fork: string; epoch: number; owner: string; atMs: number; reason: string }

export class OwnershipHistory {
  private readonly file: string;
  private prev: ForkMap | null = null;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'ownership.jsonl');
  }

  /** Records every entry of `map` that differs from the last map seen (all of them the first time). */
  observe(map: ForkMap, reason: string): void {
    const rows: OwnershipRow[] = [];
    const now = Date.now();
    for (const e of map.entries.values()) {
      const p = this.prev?.get(e.fork);
      if (!p || p.epoch !== e.epoch || p.owner !== e.owner) rows.push({ fork: e.fork, epoch: e.epoch, owner: e.owner, atMs: now, reason });
    }
    this.prev = map;
    if (rows.length === 0) return;
    fs.appendFileSync(this.file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  }

  rows(): OwnershipRow[] {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch {
      return [];
    }
    const out: OwnershipRow[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as OwnershipRow);
      } catch {
        // a torn last line after a crash: the rows before it stand
      }
    }
    return out;
  }
}

/** Pairs (fork, epoch) that more than one owner claimed, across the histories of all members. */
export function ownershipConflicts(histories: OwnershipRow[][]): { fork: string; epoch: number; owners: string[] }[] {
  const seen = new Map<string, Set<string>>();
  for (const rows of histories) {
    for (const r of rows) {
      // Owner '' is the placeholder of a member that has not learned the map yet: it owns nothing.
      if (r.owner === '') continue;
      const k = `${r.fork}@${r.epoch}`;
      let s = seen.get(k);
      if (!s) seen.set(k, (s = new Set()));
      s.add(r.owner);
    }
  }
  const out: { fork: string; epoch: number; owners: string[] }[] = [];
  for (const [k, s] of seen) {
    if (s.size < 2) continue;
    const [fork, epoch] = k.split('@');
    out.push({ fork: fork!, epoch: Number(epoch), owners: [...s].sort() });
  }
  return out;
}
