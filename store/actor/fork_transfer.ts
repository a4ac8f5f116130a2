// A fork's rows in and out of this actor, for live fork moves (store/cluster/moves): the source
// exports a snapshot in key order while writes go on, the target imports snapshot and tail chunks
// into its group transaction, and the source drops the fork once it moved away.
import type { ForkChunk } from '../../schemas/fork_chunk.js';
import type { ForkMap } from '../map/fork_map.js';
import { VALUE_COUNTER, VALUE_DELTA } from '../../schemas/values.js';
import { storedToWire, wireToStored } from '../protocol/values.js';
import type { ChangeLog } from './change_log.js';
import { TypeMismatch, type ForkDb } from './fork_db.js';
import type { GroupCommit } from './group_commit.js';
import type { IncrQueue } from './incr_queue.js';

export class ForkTransfer {
  constructor(
    private readonly db: ForkDb,
    private readonly incrQueue: IncrQueue,
    private readonly group: GroupCommit,
    private readonly changeLog: ChangeLog,
    /** The actor's current map (replaced on every change), to note imported rows under their fork. */
    private readonly currentMap: () => ForkMap,
  ) {}

  /**
   * The fork's rows as chunks of at most `rowsPerChunk`, in key order (dedup records in the first); writes continue
   * between chunks. `onRead` is called right after each chunk is read, before anything else commits.
   */
  async *exportFork(fork: string, rowsPerChunk = 4096, onRead?: () => void): AsyncGenerator<ForkChunk> {
    const prefix = Buffer.from(fork, 'hex');
    let after: Buffer | null = null;
    for (;;) {
      // Export committed rows only: the rows of a group that then fails to commit must never
      // reach the next owner. (The commit also applies the queued increments.)
      this.group.commit();
      const dedup = after ? [] : this.db.dedupUnder(prefix);
      const rows = this.db.scan(prefix, after, rowsPerChunk);
      onRead?.();
      const last = rows.length ? rows[rows.length - 1]!.key : Buffer.alloc(0);
      const done = rows.length < rowsPerChunk;
      yield { fork, entries: rows.map((r) => ({ key: r.key, ...storedToWire(r.value) })), dedup, last, done };
      if (done) return;
      after = last;
      await new Promise((r) => setImmediate(r));
    }
  }

  /**
   * Apply a chunk (snapshot or tail: final values, deletions as kind 0, a replication stream's
   * deltas, dedup records). Resolves once committed; rejects if it could not be applied or its
   * group failed to commit. `alongside` writes what must commit with the chunk's rows or not at all
   * (a replica's place: replica_places.ts), under the chunk's savepoint.
   */
  importChunk(chunk: ForkChunk, alongside?: () => void): Promise<void> {
    try {
      this.group.begin();
      this.incrQueue.flush();
      this.group.atomic(() => {
        const map = this.currentMap();
        // Counters (the totals of increments) and deltas (a replication stream's increments: most
        // of it) go in runs through the multi-row setMany and incrMany: one call into SQLite per
        // counter was the replica's biggest cost at R = 2. Any other row, or a row of the other
        // kind, ends a run, so rows apply in the chunk's order.
        const keys: Buffer[] = [];
        const values: bigint[] = [];
        let adding = false;
        const endRun = () => {
          if (adding && !this.db.incrMany(keys, values)) throw new TypeMismatch(`a delta of fork ${chunk.fork} met a key holding bytes`);
          if (!adding) this.db.setMany(keys, values);
          keys.length = values.length = 0;
        };
        const run = (key: Buffer, value: bigint, add: boolean) => {
          if (add !== adding) endRun();
          adding = add;
          keys.push(key);
          values.push(value);
        };
        // The fork of each row, for the notes; with no fork watched here (a replica's usual case) no note is kept, and
        // the lookup per row was a replica's biggest cost in JavaScript.
        const noting = this.changeLog.watchesAny;
        for (const entry of chunk.entries) {
          const fork = noting ? map.lookup(entry.key).fork : chunk.fork;
          if (entry.kind === VALUE_DELTA) {
            const delta = wireToStored({ kind: VALUE_COUNTER, data: entry.data }) as bigint;
            if (this.changeLog.wantsTotals(fork)) {
              endRun();
              this.changeLog.note(fork, entry.key, this.db.incrGet(entry.key, delta));
            } else {
              run(entry.key, delta, true);
              this.changeLog.noteDelta(fork, entry.key, Number(delta));
            }
            continue;
          }
          const value = wireToStored(entry);
          if (typeof value === 'bigint') run(entry.key, value, false);
          else {
            endRun();
            if (value === undefined) this.db.delete(entry.key);
            else this.db.set(entry.key, value);
          }
          this.changeLog.note(fork, entry.key, value);
        }
        endRun();
        for (const record of chunk.dedup) this.db.dedupRecord(record.producer, record.seq, record.anchor);
        alongside?.();
      });
    } catch (err) {
      return Promise.reject(err);
    }
    this.group.addRows(chunk.entries.length);
    return this.group.afterCommit();
  }

  /**
   * Delete a fork's rows and dedup records (after it moved away). Resolves with the rows deleted
   * once committed; rejects if its group failed to commit.
   */
  dropFork(fork: string): Promise<number> {
    let n: number;
    try {
      this.group.begin();
      this.incrQueue.flush();
      n = this.group.atomic(() => this.db.purge(Buffer.from(fork, 'hex'), true));
    } catch (err) {
      return Promise.reject(err);
    }
    return this.group.afterCommit().then(() => n);
  }
}
