// Committed changes of watched forks, for live fork moves: while a fork is watched, every write to
// it is noted with its final value (deletions as kind 0) and its dedup records; after the commit
// the watchers get them as one ForkChunk per fork, which the next owner applies like a snapshot
// chunk. Notes of a request that fails are dropped with its savepoint.
import type { ForkChunk } from '../../schemas/fork_chunk.js';
import { storedToWire } from '../protocol/values.js';
import type { ForkDb } from './fork_db.js';

export type Watcher = (chunk: ForkChunk) => void;
export type ChangeMark = Map<string, readonly [number, number]>;

export class ChangeLog {
  private readonly watchers = new Map<string, Set<Watcher>>();
  private changes = new Map<string, ForkChunk>();

  watch(fork: string, watcher: Watcher): () => void {
    let forkWatchers = this.watchers.get(fork);
    if (!forkWatchers) this.watchers.set(fork, (forkWatchers = new Set()));
    forkWatchers.add(watcher);
    return () => {
      forkWatchers.delete(watcher);
      if (!forkWatchers.size) this.watchers.delete(fork);
    };
  }

  isWatched(fork: string): boolean {
    return this.watchers.has(fork);
  }

  note(fork: string, key: Buffer, value: Buffer | bigint | undefined): void {
    if (this.watchers.has(fork)) this.chunk(fork).entries.push({ key, ...storedToWire(value) });
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
    if (committed) for (const [fork, chunk] of changes) for (const watcher of this.watchers.get(fork) ?? []) watcher(chunk);
  }

  private chunk(fork: string): ForkChunk {
    let chunk = this.changes.get(fork);
    if (!chunk) this.changes.set(fork, (chunk = { fork, entries: [], dedup: [], last: Buffer.alloc(0), done: false }));
    return chunk;
  }
}
