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
// Longer than our usual modules (about 370 lines, scan-packed's statement included): every method is a prepared statement, or a few,
// on the one database handle and its transaction state, which nothing else may touch (the actor's
// exclusive lock); the multi-row loop is apart (row_chunks.ts), as are file errors (file_errors.ts).
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { formatKey, prefixEnd, ROUTING_BYTES } from '../protocol/keys.js';
import { storeFileError, withFile } from './file_errors.js';
import { ROWS, runInRowChunks } from './row_chunks.js';

export type Durability = 'normal' | 'full';
/** A stored value: bytes, or a counter (bigint). */
export type StoredValue = Buffer | bigint;

export class TypeMismatch extends Error {}


/** The value of every empty-valued row a namespace scan returns (a zero-length Buffer has no bytes to share). */
const EMPTY_VALUE = Buffer.alloc(0);

type Row = { key: Buffer; value: StoredValue };

/** Above every stored key (keys are at most 64 KiB): the upper bound of a range with no end. */
const ABOVE_ALL_KEYS = Buffer.alloc(64 * 1024 + 1, 0xff);

export class ForkDb {
  readonly db: Database.Database;
  private readonly statements;
  /** Multi-row increment statements by row count (see incrMany). */
  private readonly incrN = new Map<number, Database.Statement>();
  /** The multi-row mark statement (see markMany). */
  private markN: Database.Statement | undefined;
  /** The multi-row set statement (see setMany). */
  private setN: Database.Statement | undefined;

  constructor(
    readonly dir: string,
    readonly durability: Durability,
  ) {
    const file = path.join(dir, 'store.db');
    withFile(dir, 'create the data directory', () => fs.mkdirSync(dir, { recursive: true }));
    // (timeout: how long to wait for a lock held by another process; only a second opener waits.)
    this.db = withFile(file, 'open the store database', () => new Database(file, { timeout: 1000 }));
    try {
      this.configure(durability);
    } catch (err) {
      this.db.close();
      if ((err as { code?: string }).code === 'SQLITE_BUSY') throw new Error(`store database ${file} is locked by another process: is another store actor running with this --data dir?`);
      throw storeFileError(file, 'open the store database', err);
    }
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
      setInt: prepare('INSERT INTO kv (key, value) VALUES (?, CAST(? AS INTEGER)) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
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
      scanFrom: prepare('SELECT key, value FROM kv WHERE key >= ? AND key < ? ORDER BY key LIMIT ?').safeIntegers(true),
      scanFromOpen: prepare('SELECT key, value FROM kv WHERE key >= ? ORDER BY key LIMIT ?').safeIntegers(true),
      scanAfter: prepare('SELECT key, value FROM kv WHERE key > ? AND key < ? ORDER BY key LIMIT ?').safeIntegers(true),
      scanAfterOpen: prepare('SELECT key, value FROM kv WHERE key > ? ORDER BY key LIMIT ?').safeIntegers(true),
      // The namespace filter in SQL: rows of other namespaces never become JS objects. Bytes 7.. of a
      // stored key (1-based) are its routing prefix, which starts with the namespace and a NUL.
      // An empty value comes back as NULL and becomes the shared EMPTY_VALUE: most rows of the model
      // statistics are keys with empty values, and a Buffer made for each costs a third of the scan.
      scanNs: prepare(`SELECT key, CASE WHEN typeof(value) = 'blob' AND length(value) = 0 THEN NULL ELSE value END AS value
                       FROM kv WHERE key >= ? AND key <= ? AND substr(key, 7, ?) = ? ORDER BY key LIMIT ?`).safeIntegers(true),
      // The same below an exclusive bound (scanMarked without a cap on the rows examined).
      scanNsBelow: prepare(`SELECT key, CASE WHEN typeof(value) = 'blob' AND length(value) = 0 THEN NULL ELSE value END AS value
                            FROM kv WHERE key >= ? AND key < ? AND substr(key, 7, ?) = ? ORDER BY key LIMIT ?`).safeIntegers(true),
      // scanPacked: the rows packed by SQLite (hex, concatenated, unhexed: one blob) rather than a
      // key and a value Buffer per row, ~5x cheaper a row; one aggregate over the range, with no
      // LIMIT subquery, which costs more than a short range's whole read (the cap is a key bound).
      // \`bad\` counts rows too short to cut, or holding a counter, for the caller to refuse.
      scanPacked: prepare(`SELECT unhex(group_concat(hex(substr(key, -@tail)) || hex(substr(value, 1, @head)), '')) AS rows, max(key) AS last,
                                  sum(length(key) < @tail OR typeof(value) <> 'blob' OR length(value) < @head) AS bad
                           FROM kv WHERE key >= @lo AND key < @hi`),
      // The n-th key of a range (keys only): where a filtered scan stops examining.
      keyAt: prepare('SELECT key FROM kv WHERE key >= ? AND key < ? ORDER BY key LIMIT 1 OFFSET ?').pluck(),
      lastKey: prepare('SELECT key FROM kv WHERE key >= ? AND key < ? ORDER BY key DESC LIMIT 1').pluck(),
      dedupRange: prepare('SELECT producer, seq, anchor FROM dedup WHERE anchor >= ? AND anchor < ?'),
      dedupRangeOpen: prepare('SELECT producer, seq, anchor FROM dedup WHERE anchor >= ?'),
      delRange: prepare('DELETE FROM kv WHERE key >= ? AND key < ?'),
      delRangeOpen: prepare('DELETE FROM kv WHERE key >= ?'),
      delDedupRange: prepare('DELETE FROM dedup WHERE anchor >= ? AND anchor < ?'),
      delDedupRangeOpen: prepare('DELETE FROM dedup WHERE anchor >= ?'),
      sizeRange: prepare(`SELECT count(*) AS n, coalesce(sum(length(key) + CASE WHEN typeof(value) = 'integer' THEN 8 ELSE length(value) END), 0) AS b
                    FROM kv WHERE key >= ? AND key < ?`),
      sizeRangeOpen: prepare(`SELECT count(*) AS n, coalesce(sum(length(key) + CASE WHEN typeof(value) = 'integer' THEN 8 ELSE length(value) END), 0) AS b
                        FROM kv WHERE key >= ?`),
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

  /** Pages, locking, WAL, sync and the tables: the first reads and writes of the file. */
  private configure(durability: Durability): void {
    // 16 KiB pages: random UPSERTs into a large table run ~1.4x faster than with 4 KiB (shallower
    // B-tree). Only takes effect when the database is created.
    this.db.pragma('page_size = 16384');
    // Exclusive locking, set before WAL mode is entered: the WAL index lives in heap memory instead
    // of the shared-memory file and no file locks are taken per transaction (~10-15% more
    // increments/s, measured A/B). Only the owning actor process ever opens this file; a second
    // process opening the same data dir now gets "database is locked" instead of sharing it. The OS
    // drops the lock when the process dies (kill -9 included), and WAL recovery on the next open is
    // unchanged, so durability is exactly as before.
    this.db.pragma('locking_mode = EXCLUSIVE');
    this.db.pragma('journal_mode = WAL'); // the first access: takes the lock
    // NORMAL: a commit is in the OS once it returns (survives a process crash); FULL: fsync per commit (power loss).
    this.db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('cache_size = -65536');
    // Checkpoint every 8192 WAL pages (128 MiB) instead of 1000: dense increment commits rewrite most
    // leaf pages each time, and a checkpoint copies each page once however many commits changed it,
    // so rarer checkpoints copy less (~5% more increments/s). Durability is the WAL's: unchanged.
    // The cost is a WAL of up to ~128 MiB on disk, read back once when the actor restarts.
    this.db.pragma('wal_autocheckpoint = 8192');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS dedup (producer TEXT NOT NULL, seq INTEGER NOT NULL, anchor BLOB NOT NULL,
                                        PRIMARY KEY (producer, seq)) WITHOUT ROWID;
    `);
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
   * set() for every (keys[i], values[i]), ROWS rows per statement: the smoothing writes
   * millions of n-gram values and Top-K heads in batches of sets, and one call into SQLite per row
   * was most of applying them. Rows apply in order (a repeated key ends with its last value).
   */
  setMany(keys: readonly Buffer[], values: readonly Buffer[]): void {
    const setN = keys.length >= ROWS ? (this.setN ??= this.db.prepare(`INSERT INTO kv (key, value) VALUES ${Array.from({ length: ROWS }, () => '(?, ?)').join(', ')}
                                     ON CONFLICT (key) DO UPDATE SET value = excluded.value`)) : undefined;
    runInRowChunks(keys, values, (args) => (setN!.run(args), true), (key, value) => (this.statements.set.run(key, value), true));
  }
  setCounter(key: Buffer, value: bigint): void {
    this.statements.setInt.run(key, value);
  }
  delete(key: Buffer): number {
    return this.statements.del.run(key).changes;
  }
  /** Add `delta` to a counter (created at 0); throws TypeMismatch if the key holds bytes. */
  incr(key: Buffer, delta: number | bigint): void {
    if (this.statements.incr.run(key, delta).changes === 0) throw new TypeMismatch(`key ${formatKey(key)} holds bytes, not a counter`);
  }
  /**
   * Add `deltas[i]` to counter `keys[i]` for every i, ROWS rows per statement (one call into
   * SQLite per 64 rows instead of per row: ~25% less time per increment). True when every row was
   * applied; false when some key holds bytes (the caller rolls back its savepoint and finds it).
   */
  incrMany(keys: Buffer[], deltas: number[]): boolean {
    const st = keys.length >= ROWS ? this.incrStatement(ROWS) : undefined;
    return runInRowChunks(keys, deltas, (args) => st!.run(args).changes === ROWS, (key, delta) => this.statements.incr.run(key, delta).changes !== 0);
  }
  /** Create `key` with the empty value unless it exists (whatever it holds); true when created. */
  mark(key: Buffer): boolean {
    return this.statements.mark.run(key).changes === 1;
  }
  /** mark() for every key, ROWS rows per statement (keys sorted and distinct: the caller's). */
  markMany(keys: Buffer[]): void {
    let i = 0;
    if (keys.length >= ROWS) {
      this.markN ??= this.db.prepare(`INSERT OR IGNORE INTO kv (key, value) VALUES ${Array.from({ length: ROWS }, () => "(?, X'')").join(', ')}`);
      for (; i + ROWS <= keys.length; i += ROWS) this.markN.run(keys.slice(i, i + ROWS));
    }
    for (; i < keys.length; i++) this.statements.mark.run(keys[i]!);
  }
  private incrStatement(rows: number): Database.Statement {
    let st = this.incrN.get(rows);
    if (!st) {
      // Keys of one statement must be distinct (the caller sums repeats): a row whose DO UPDATE
      // WHERE fails (bytes) is not counted in `changes`, which is how a mismatch shows.
      const values = Array.from({ length: rows }, () => '(?, CAST(? AS INTEGER))').join(', ');
      st = this.db.prepare(`INSERT INTO kv (key, value) VALUES ${values}
                            ON CONFLICT (key) DO UPDATE SET value = value + excluded.value WHERE typeof(value) = 'integer'`);
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

  /** Up to `limit` rows with keys in [prefix range], strictly after `after` if given, in key order. */
  scan(prefix: Buffer, after: Buffer | null, limit: number): { key: Buffer; value: StoredValue }[] {
    const hi = prefixEnd(prefix);
    const from = after && Buffer.compare(after, prefix) >= 0 ? after : null;
    if (from) return (hi ? this.statements.scanAfter.all(from, hi, limit) : this.statements.scanAfterOpen.all(from, limit)) as { key: Buffer; value: StoredValue }[];
    return (hi ? this.statements.scanFrom.all(prefix, hi, limit) : this.statements.scanFromOpen.all(prefix, limit)) as { key: Buffer; value: StoredValue }[];
  }

  /**
   * Like scan, each row packed as its key's last `keyTail` bytes and its value's first `valueHead`
   * bytes, back to back (`rows`, empty when none), in the order SQLite walks the key range (key
   * order in practice, but SQL does not promise an aggregate's order: callers that care sort).
   * `next` is the last key when `limit` rows came and more follow. `bad`: rows shorter than that
   * or holding a counter (their bytes in `rows` mean nothing).
   */
  scanPacked(prefix: Buffer, after: Buffer | null, limit: number, keyTail: number, valueHead: number): { rows: Buffer; next: Buffer | null; bad: number } {
    const s = this.statements;
    // "key > after" is "key >= after 0x00": the least byte string above it.
    const lo = after && Buffer.compare(after, prefix) >= 0 ? Buffer.concat([after, Buffer.of(0)]) : prefix;
    const end = prefixEnd(prefix) ?? ABOVE_ALL_KEYS;
    // The first key past the cap, if any, bounds the range instead of a LIMIT.
    const past = s.keyAt.get(lo, end, limit) as Buffer | undefined;
    const r = s.scanPacked.get({ tail: keyTail, head: valueHead, lo, hi: past ?? end }) as { rows: Buffer | null; last: Buffer | null; bad: number | null };
    return { rows: r.rows ?? EMPTY_VALUE, next: past ? r.last : null, bad: r.bad ?? 0 };
  }

  /**
   * Like scan, keeping only the keys whose routing prefix starts with `marker` (a namespace and its
   * NUL, or a namespace family's leading bytes), filtered by SQLite: a namespace's rows among many
   * others cost a B-tree walk, not a JS object each. At most `examine` rows are examined (and no
   * more than twice `limit`: finding that bound walks as many keys); `next` goes on past them.
   * `examine` Infinity: no cap, so the rows are walked once, not twice (a store actor's own
   * smoothing passes, whose namespace is a fifth or more of every fork: a call walks a few times
   * `limit` rows, or to the range's end).
   */
  scanMarked(prefix: Buffer, after: Buffer | null, limit: number, marker: Buffer, examine: number): { rows: { key: Buffer; value: StoredValue }[]; next: Buffer | null } {
    const hi = prefixEnd(prefix) ?? ABOVE_ALL_KEYS;
    const s = this.statements;
    // "key > after" is "key >= after 0x00": the least byte string above it.
    const lo = after && Buffer.compare(after, prefix) >= 0 ? Buffer.concat([after, Buffer.of(0)]) : prefix;
    if (examine === Infinity) {
      const rows = s.scanNsBelow.all(lo, hi, marker.length, marker, limit) as { key: Buffer; value: StoredValue | null }[];
      for (const row of rows) if (row.value === null) row.value = EMPTY_VALUE;
      return { rows: rows as Row[], next: rows.length === limit ? rows[rows.length - 1]!.key : null };
    }
    const window = Math.max(1, Math.min(examine, 2 * limit));
    const capped = s.keyAt.get(lo, hi, window - 1) as Buffer | undefined;
    const upTo = capped ?? (s.lastKey.get(lo, hi) as Buffer | undefined);
    if (!upTo) return { rows: [], next: null };
    const rows = s.scanNs.all(lo, upTo, marker.length, marker, limit) as { key: Buffer; value: StoredValue | null }[];
    for (const row of rows) if (row.value === null) row.value = EMPTY_VALUE;
    if (rows.length === limit) return { rows: rows as Row[], next: rows[rows.length - 1]!.key };
    return { rows: rows as Row[], next: capped ?? null };
  }

  /** Iterate all rows under `prefix` in pages (safe against concurrent writes between pages). */
  *iterate(prefix: Buffer, page = 4096): Generator<{ key: Buffer; value: StoredValue }> {
    let after: Buffer | null = null;
    for (;;) {
      const rows = this.scan(prefix, after, page);
      yield* rows;
      if (rows.length < page) return;
      after = rows[rows.length - 1]!.key;
    }
  }

  dedupUnder(prefix: Buffer): { producer: string; seq: number; anchor: Buffer }[] {
    const hi = prefixEnd(prefix);
    return (hi ? this.statements.dedupRange.all(prefix, hi) : this.statements.dedupRangeOpen.all(prefix)) as { producer: string; seq: number; anchor: Buffer }[];
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

  /** Rows and bytes (key + value; counters count 8) under `prefix`. */
  size(prefix: Buffer): { keys: number; bytes: number } {
    const hi = prefixEnd(prefix);
    const r = (hi ? this.statements.sizeRange.get(prefix, hi) : this.statements.sizeRangeOpen.get(prefix)) as { n: number; b: number };
    return { keys: r.n, bytes: r.b };
  }

  /** Entries and bytes under `prefix` grouped by their first `width` bytes. */
  branches(prefix: Buffer, width: number): { branch: Buffer; entries: number; bytes: number }[] {
    const hi = prefixEnd(prefix);
    const sql = `SELECT substr(key, 1, ?) AS branch, count(*) AS entries,
                   sum(length(key) + CASE WHEN typeof(value) = 'integer' THEN 8 ELSE length(value) END) AS bytes
                 FROM kv WHERE key >= ? ${hi ? 'AND key < ?' : ''} GROUP BY branch ORDER BY branch`;
    const args: unknown[] = [width, prefix];
    if (hi) args.push(hi);
    return this.db.prepare(sql).all(...args) as { branch: Buffer; entries: number; bytes: number }[];
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
