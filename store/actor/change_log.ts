// Committed changes of watched forks, for live fork moves and replication: while a fork is
// watched, every write to it is noted with its final value (deletions as kind 0) and its dedup
// records; after the commit the watchers get them as one ForkChunk per fork, which the next owner
// (or a replica) applies like a snapshot chunk. Notes of a request that fails are dropped with
// its savepoint.
//
// A watcher that applies every change exactly once onto exactly the state before it (a replica,
// store/replication/) may take the queued increments as deltas (kind VALUE_DELTA): the owner then
// runs plain UPSERTs, where final values take `RETURNING` statements costing 2-3x as much. While
// any watcher of a fork wants final values (a live move's tail replays onto a snapshot read while
// writes went on; a replica's snapshot being read, owner_stream.ts), every change of it is noted
// with its final value, which suits every watcher.
import type { ForkChunk } from '../../schemas/fork_chunk.js';
import { VALUE_DELTA } from '../../schemas/values.js';
import { counterBytes, storedToWire } from '../protocol/values.js';
import type { ForkDb } from './fork_db.js';

export type Watcher = (chunk: ForkChunk) => void;
export type ChangeMark = Map<string, readonly [number, number]>;

interface ForkWatchers {
  watchers: Set<Watcher>;
  /** How many of them want final values. */
  totals: number;
}

/** Deltas' 8-byte encodings, shared for the small ones (most are): one allocation less per noted increment. */
const SMALL_DELTAS = Array.from({ length: 256 }, (_, d) => counterBytes(BigInt(d)));

export class ChangeLog {
  private readonly watchers = new Map<string, ForkWatchers>();
  private changes = new Map<string, ForkChunk>();

  /** Watch `fork`'s committed changes; with `totals` false, increments may come as deltas. Returns the unwatch. */
  watch(fork: string, watcher: Watcher, totals = true): () => void {
    let w = this.watchers.get(fork);
    if (!w) this.watchers.set(fork, (w = { watchers: new Set(), totals: 0 }));
    const entry = w;
    // Each watch its own entry: a function watching twice is two watches, and one unwatch never ends the other.
    const fn: Watcher = (chunk) => watcher(chunk);
    entry.watchers.add(fn);
    if (totals) entry.totals++;
    let watching = true;
    return () => {
      if (!watching) return;
      watching = false;
      entry.watchers.delete(fn);
      if (totals) entry.totals--;
      if (!entry.watchers.size && this.watchers.get(fork) === entry) this.watchers.delete(fork);
    };
  }

  /** Some fork is watched (else nothing is noted). */
  get watchesAny(): boolean {
    return this.watchers.size > 0;
  }

  isWatched(fork: string): boolean {
    return this.watchers.has(fork);
  }

  /** Some watcher of `fork` wants final values: increments must be noted with their totals. */
  wantsTotals(fork: string): boolean {
    return (this.watchers.get(fork)?.totals ?? 0) > 0;
  }

  note(fork: string, key: Buffer, value: Buffer | bigint | undefined): void {
    if (this.watchers.has(fork)) this.chunk(fork).entries.push({ key, ...storedToWire(value) });
  }

  /** An increment of `key` by `delta`, applied: only when no watcher of `fork` wants totals (the caller checks `wantsTotals`). */
  noteDelta(fork: string, key: Buffer, delta: number): void {
    if (this.watchers.has(fork)) this.chunk(fork).entries.push({ key, kind: VALUE_DELTA, data: delta >= 0 && delta < 256 ? SMALL_DELTAS[delta]! : counterBytes(BigInt(delta)) });
  }

  noteDedup(fork: string, producer: string, seq: number, anchor: Buffer): void {
    if (this.watchers.has(fork)) this.chunk(fork).dedup.push({ producer, seq, anchor });
  }

  /** Run `fn` under a savepoint of `db`: on throw, undo its writes and the changes it noted, and rethrow. */
  atomic<Result>(db: ForkDb, fn: () => Result): Result {
    const mark = this.mark();
    try {
      return db.atomic(fn);
    } catch (err) {
      this.rollback(mark);
      throw err;
    }
  }

  /** Where the notes stand now, to drop what a failing request noted after it. */
  mark(): ChangeMark {
    return new Map([...this.changes].map(([fork, chunk]) => [fork, [chunk.entries.length, chunk.dedup.length] as const]));
  }
  rollback(mark: ChangeMark): void {
    for (const [fork, chunk] of this.changes) {
      const [entries, dedup] = mark.get(fork) ?? [0, 0];
      chunk.entries.length = entries;
      chunk.dedup.length = dedup;
    }
  }

  /** The transaction ended: hand its notes to the watchers if it committed, else drop them. */
  publish(committed: boolean): void {
    const changes = this.changes;
    this.changes = new Map();
    if (committed) for (const [fork, chunk] of changes) for (const watcher of this.watchers.get(fork)?.watchers ?? []) watcher(chunk);
  }

  private chunk(fork: string): ForkChunk {
    let chunk = this.changes.get(fork);
    if (!chunk) this.changes.set(fork, (chunk = { fork, entries: [], dedup: [], last: Buffer.alloc(0), done: false }));
    return chunk;
  }
}
