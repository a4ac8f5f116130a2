// One actor's SQLite database: the key/value rows of every fork it holds plus the dedup records of
// exactly-once batches.
//
// Keys start with their routing bytes, so a fork is a contiguous key range and needs no column of
// its own: splitting or merging forks never rewrites rows, and exporting a fork is a range scan.
// Values are BLOBs, except counters, which are SQLite INTEGERs (so increments are one UPSERT and
// `typeof(value)` tells counters from bytes). The dedup table is keyed by (producer, seq) and
// carries the routing bytes of the batch's first key (`anchor`), so a fork's dedup records are
// found by anchor range and move with it. The table stays small (rows below each producer's
// acknowledged floor are pruned), so the anchor needs no index: one B-tree insert per batch, not two.
//
// Writes go through group commit (see group_commit.ts): the actor opens one transaction, applies every
// write request that arrives in one event-loop turn, commits once, then acknowledges them all.
//
// Reads (scans, a range's dedup records, size, branches) are in fork_reads.ts, which this class
// extends with the writes and the transaction on the same handle, which nothing else may touch (the
// actor's exclusive lock); the multi-row loop is apart (row_chunks.ts), as are file errors
// (file_errors.ts).
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { formatKey, prefixEnd, ROUTING_BYTES } from '../protocol/keys.js';
import { storeFileError, withFile } from './file_errors.js';
import { ForkReads, type StoredValue } from './fork_reads.js';
import { ROWS, runInRowChunks } from './row_chunks.js';

export type Durability = 'normal' | 'full';
export type { StoredValue } from './fork_reads.js';

export class TypeMismatch extends Error {}

/** Pages, locking, WAL, sync and the tables: the first reads and writes of the file. */
function configure(db: Database.Database, durability: Durability): void {
  // 16 KiB pages: random UPSERTs into a large table run ~1.4x faster than with 4 KiB (shallower
  // B-tree). Only takes effect when the database is created.
  db.pragma('page_size = 16384');
  // Exclusive locking, set before WAL mode is entered: the WAL index lives in heap memory instead
  // of the shared-memory file and no file locks are taken per transaction (~10-15% more
  // increments/s, measured A/B). Only the owning actor process ever opens this file; a second
  // process opening the same data dir now gets "database is locked" instead of sharing it. The OS
  // drops the lock when the process dies (kill -9 included), and WAL recovery on the next open is
  // unchanged, so durability is exactly as before.
  db.pragma('locking_mode = EXCLUSIVE');
  db.pragma('journal_mode = WAL'); // the first access: takes the lock
  // NORMAL: a commit is in the OS once it returns (survives a process crash); FULL: fsync per commit (power loss).
  db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('cache_size = -65536');
  // Every request runs under a SAVEPOINT (atomic), and SQLite keeps the original of each page a
  // savepoint changes in a statement journal, by default a temporary file: while smoothing KJV
  // order 5 that was ~14 GB of write() calls over three actors (about as much as the WAL and its
  // checkpoints together), none of it ever read back unless a request fails. In memory it costs a
  // savepoint's pages only (one request's), and the actors' system time fell ~20% (29 -> 23 s).
  db.pragma('temp_store = MEMORY');
  // Checkpoint every 8192 WAL pages (128 MiB) instead of 1000: dense increment commits rewrite most
  // leaf pages each time, and a checkpoint copies each page once however many commits changed it,
  // so rarer checkpoints copy less (~5% more increments/s). Durability is the WAL's: unchanged.
  // The cost is a WAL of up to ~128 MiB on disk, read back once when the actor restarts.
  db.pragma('wal_autocheckpoint = 8192');
  db.exec(`
    CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS dedup (producer TEXT NOT NULL, seq INTEGER NOT NULL, anchor BLOB NOT NULL,
                                      PRIMARY KEY (producer, seq)) WITHOUT ROWID;
  `);
}

/** Opens (creating if need be) an actor's database in `dir`, configured, with its tables. */
function openForkDatabase(dir: string, durability: Durability): Database.Database {
  const file = path.join(dir, 'store.db');
  withFile(dir, 'create the data directory', () => fs.mkdirSync(dir, { recursive: true }));
  // (timeout: how long to wait for a lock held by another process; only a second opener waits.)
  const db = withFile(file, 'open the store database', () => new Database(file, { timeout: 1000 }));
  try {
    configure(db, durability);
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') throw new Error(`store database ${file} is locked by another process: is another store actor running with this --data dir?`);
    throw storeFileError(file, 'open the store database', err);
  }
  return db;
}

export class ForkDb extends ForkReads {
  private readonly statements;
  /** Multi-row increment statements by row count, negative with RETURNING (see incrMany). */
  private readonly incrN = new Map<number, Database.Statement>();
  /** The multi-row mark statement, and the one returning the keys it created (see markMany). */
  private markN: Database.Statement | undefined;
  private markNRet: Database.Statement | undefined;
  /** Multi-row set statements by row count (see setMany). */
  private readonly setN = new Map<number, Database.Statement>();

  constructor(
    readonly dir: string,
    readonly durability: Durability,
  ) {
    super(openForkDatabase(dir, durability));
    const prepare = (sql: string) => this.db.prepare(sql);
    this.statements = {
      begin: prepare('BEGIN'),
      commit: prepare('COMMIT'),
      rollback: prepare('ROLLBACK'),
      savepoint: prepare('SAVEPOINT b'),
      release: prepare('RELEASE b'),
      rollbackTo: prepare('ROLLBACK TO b'),
      get: prepare('SELECT value FROM kv WHERE key = ?').pluck().safeIntegers(true),
      set: prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      del: prepare('DELETE FROM kv WHERE key = ?'),
      mark: prepare("INSERT OR IGNORE INTO kv (key, value) VALUES (?, X'')"),
      incr: prepare(`INSERT INTO kv (key, value) VALUES (?, CAST(? AS INTEGER))
               ON CONFLICT (key) DO UPDATE SET value = value + excluded.value WHERE typeof(value) = 'integer'`),
      incrRet: prepare(`INSERT INTO kv (key, value) VALUES (?, CAST(? AS INTEGER))
                  ON CONFLICT (key) DO UPDATE SET value = value + excluded.value WHERE typeof(value) = 'integer'
                  RETURNING value`).pluck().safeIntegers(true),
      dedupHas: prepare('SELECT 1 FROM dedup WHERE producer = ? AND seq = ?').pluck(),
      dedupAdd: prepare('INSERT OR IGNORE INTO dedup (producer, seq, anchor) VALUES (?, ?, ?)'),
      dedupPrune: prepare('DELETE FROM dedup WHERE producer = ? AND seq < ?'),
      delRange: prepare('DELETE FROM kv WHERE key >= ? AND key < ?'),
      delRangeOpen: prepare('DELETE FROM kv WHERE key >= ?'),
      delDedupRange: prepare('DELETE FROM dedup WHERE anchor >= ? AND anchor < ?'),
      delDedupRangeOpen: prepare('DELETE FROM dedup WHERE anchor >= ?'),
    };
  }

  get inTransaction(): boolean {
    return this.db.inTransaction;
  }
  begin(): void {
    this.statements.begin.run();
  }
  commit(): void {
    this.statements.commit.run();
  }
  rollback(): void {
    if (this.db.inTransaction) this.statements.rollback.run();
  }

  /** Run `fn` atomically inside the open transaction: on throw, its writes are undone and the error rethrown. */
  atomic<T>(fn: () => T): T {
    // Outside a transaction, SAVEPOINT would open one of its own and RELEASE commit it: writes
    // stored behind the back of whoever holds their replies until its commit.
    if (!this.db.inTransaction) throw new Error('no transaction is open (SQLite rolls the whole transaction back after SQLITE_FULL, SQLITE_IOERR and a few other errors)');
    this.statements.savepoint.run();
    try {
      const r = fn();
      this.statements.release.run();
      return r;
    } catch (err) {
      // After those errors the savepoint went with the transaction: nothing is left to undo here.
      if (this.db.inTransaction) {
        this.statements.rollbackTo.run();
        this.statements.release.run();
      }
      throw err;
    }
  }

  get(key: Buffer): StoredValue | undefined {
    return this.statements.get.get(key) as StoredValue | undefined;
  }
  set(key: Buffer, value: Buffer): void {
    this.statements.set.run(key, value);
  }
  /**
   * set() for every (keys[i], values[i]), up to ROWS rows per statement: the smoothing writes
   * millions of n-gram values and Top-K heads in batches of sets, and one call into SQLite per row
   * was most of applying them. Rows apply in order (a repeated key ends with its last value). A
   * bigint value is stored as a counter (SQLite binds it as an INTEGER; `value` has no affinity).
   */
  setMany(keys: readonly Buffer[], values: readonly (Buffer | bigint)[]): void {
    runInRowChunks(keys, values, (args, rows) => (this.setStatement(rows).run(args), true), (key, value) => (this.statements.set.run(key, value), true));
  }
  delete(key: Buffer): number {
    return this.statements.del.run(key).changes;
  }
  /** Add `delta` to a counter (created at 0); throws TypeMismatch if the key holds bytes. */
  incr(key: Buffer, delta: number | bigint): void {
    if (this.statements.incr.run(key, delta).changes === 0) throw new TypeMismatch(`key ${formatKey(key)} holds bytes, not a counter`);
  }
  /**
   * Add `deltas[i]` to counter `keys[i]` for every i, up to ROWS rows per statement (one call into
   * SQLite per 64 rows instead of per row: ~25% less time per increment). True when every row was
   * applied; false when some key holds bytes (the caller rolls back its savepoint and finds it).
   * With `onTotal`, each key's new total is passed to it (`RETURNING`: a watched fork notes them).
   */
  incrMany(keys: Buffer[], deltas: (number | bigint)[], onTotal?: (key: Buffer, total: bigint) => void): boolean {
    if (!onTotal) return runInRowChunks(keys, deltas, (args, rows) => this.incrStatement(rows).run(args).changes === rows, (key, delta) => this.statements.incr.run(key, delta).changes !== 0);
    // The key comes back as hex, turned into a Buffer from Node's pool: a BLOB column comes back as a Buffer of
    // its own memory each, and at R = 2 (every increment of a replicated fork returns its key) those were much of
    // the owner's garbage collection (22% of its CPU against 13% at R = 1).
    const returned = (rows: unknown[][]) => (rows.forEach(([key, total]) => onTotal(Buffer.from(key as string, 'hex'), total as bigint)), rows.length);
    const one = (key: Buffer, delta: number | bigint) => {
      const total = this.statements.incrRet.get(key, delta) as bigint | undefined;
      if (total !== undefined) onTotal(key, total);
      return total !== undefined;
    };
    return runInRowChunks(keys, deltas, (args, rows) => returned(this.incrStatement(-rows).all(args) as unknown[][]) === rows, one);
  }
  /** Create `key` with the empty value unless it exists (whatever it holds); true when created. */
  mark(key: Buffer): boolean {
    return this.statements.mark.run(key).changes === 1;
  }
  /** mark() for every key, ROWS rows per statement (keys sorted and distinct: the caller's); `onCreated` gets the keys created. */
  markMany(keys: Buffer[], onCreated?: (key: Buffer) => void): void {
    let i = 0;
    if (keys.length >= ROWS) {
      const rows = Array.from({ length: ROWS }, () => "(?, X'')").join(', ');
      if (onCreated) this.markNRet ??= this.db.prepare(`INSERT OR IGNORE INTO kv (key, value) VALUES ${rows} RETURNING key`).pluck();
      else this.markN ??= this.db.prepare(`INSERT OR IGNORE INTO kv (key, value) VALUES ${rows}`);
      for (; i + ROWS <= keys.length; i += ROWS) {
        if (onCreated) for (const key of this.markNRet!.all(keys.slice(i, i + ROWS)) as Buffer[]) onCreated(key);
        else this.markN!.run(keys.slice(i, i + ROWS));
      }
    }
    for (; i < keys.length; i++) if (this.mark(keys[i]!)) onCreated?.(keys[i]!);
  }
  /** The statement of `|rows|` multi-row increments; rows < 0: with `RETURNING hex(key), value`. */
  private setStatement(rows: number): Database.Statement {
    let st = this.setN.get(rows);
    if (!st) {
      st = this.db.prepare(`INSERT INTO kv (key, value) VALUES ${Array.from({ length: rows }, () => '(?, ?)').join(', ')}
                            ON CONFLICT (key) DO UPDATE SET value = excluded.value`);
      this.setN.set(rows, st);
    }
    return st;
  }

  private incrStatement(rows: number): Database.Statement {
    let st = this.incrN.get(rows);
    if (!st) {
      // Keys of one statement must be distinct (the caller sums repeats): a row whose DO UPDATE
      // WHERE fails (bytes) is neither counted in `changes` nor returned, which is how a mismatch shows.
      const values = Array.from({ length: Math.abs(rows) }, () => '(?, CAST(? AS INTEGER))').join(', ');
      st = this.db.prepare(`INSERT INTO kv (key, value) VALUES ${values}
                            ON CONFLICT (key) DO UPDATE SET value = value + excluded.value WHERE typeof(value) = 'integer'${rows < 0 ? ' RETURNING hex(key), value' : ''}`);
      if (rows < 0) st.raw().safeIntegers(true);
      this.incrN.set(rows, st);
    }
    return st;
  }
  /** Like incr, returning the new total. */
  incrGet(key: Buffer, delta: number | bigint): bigint {
    const v = this.statements.incrRet.get(key, delta) as bigint | undefined;
    if (v === undefined) throw new TypeMismatch(`key ${formatKey(key)} holds bytes, not a counter`);
    return v;
  }

  dedupSeen(producer: string, seq: number): boolean {
    return this.statements.dedupHas.get(producer, seq) !== undefined;
  }
  dedupRecord(producer: string, seq: number, anchor: Buffer): void {
    this.statements.dedupAdd.run(producer, seq, anchor);
  }
  dedupPrune(producer: string, floor: number): void {
    this.statements.dedupPrune.run(producer, floor);
  }

  /** Delete every row (and dedup record) under `prefix`; returns the rows deleted. */
  purge(prefix: Buffer, withDedup: boolean): number {
    const hi = prefixEnd(prefix);
    const n = (hi ? this.statements.delRange.run(prefix, hi) : this.statements.delRangeOpen.run(prefix)).changes;
    if (withDedup) {
      const rp = prefix.subarray(0, ROUTING_BYTES);
      const rhi = prefixEnd(rp);
      if (prefix.length <= ROUTING_BYTES) rhi ? this.statements.delDedupRange.run(rp, rhi) : this.statements.delDedupRangeOpen.run(rp);
    }
    return n;
  }

  checkpoint(): { busy: number; log: number; checkpointed: number } {
    const r = this.db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number; checkpointed: number }[];
    return r[0] ?? { busy: 0, log: 0, checkpointed: 0 };
  }

  close(): void {
    if (this.db.open) {
      this.rollback();
      this.db.close();
    }
  }
}
