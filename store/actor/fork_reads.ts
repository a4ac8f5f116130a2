// The reads of an actor's database (fork_db.ts): scans of a key range, plain, packed by SQLite, or
// filtered to a namespace; a range's dedup records, size and branches. ForkDb extends it with the
// writes and the transaction; both work on the one handle the actor holds exclusively.
import type Database from 'better-sqlite3';
import { prefixEnd } from '../protocol/keys.js';
import { PACKED_ROW_SQL } from '../protocol/packed_rows.js';

/** A stored value: bytes, or a counter (bigint). */
export type StoredValue = Buffer | bigint;

/** The value of every empty-valued row a namespace scan returns (a zero-length Buffer has no bytes to share). */
const EMPTY_VALUE = Buffer.alloc(0);

type Row = { key: Buffer; value: StoredValue };

/** Above every stored key (keys are at most 64 KiB): the upper bound of a range with no end. */
const ABOVE_ALL_KEYS = Buffer.alloc(64 * 1024 + 1, 0xff);

type ReadStatement = 'scanFrom' | 'scanFromOpen' | 'scanAfter' | 'scanAfterOpen' | 'scanNs' | 'scanNsBelow' | 'scanNsPacked' | 'scanNsBelowPacked' | 'scanNsBelowPackedSized' | 'scanPacked' | 'keyAt' | 'lastKey' | 'dedupRange' | 'dedupRangeOpen' | 'sizeRange' | 'sizeRangeOpen';

function readStatements(db: Database.Database): Record<ReadStatement, Database.Statement> {
  const prepare = (sql: string) => db.prepare(sql);
  return {
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
    // scanMarkedPacked: scanNs's rows packed into one blob (store/protocol/packed_rows.ts).
    scanNsPacked: prepare(`SELECT CAST(group_concat(${PACKED_ROW_SQL}, '' ORDER BY key) AS BLOB) AS rows, count(*) AS n, max(key) AS last
                           FROM (SELECT key, value FROM kv WHERE key >= ? AND key <= ? AND substr(key, 7, ?) = ? ORDER BY key LIMIT ?)`),
    scanNsBelowPacked: prepare(`SELECT CAST(group_concat(${PACKED_ROW_SQL}, '' ORDER BY key) AS BLOB) AS rows, count(*) AS n, max(key) AS last
                                FROM (SELECT key, value FROM kv WHERE key >= ? AND key < ? AND substr(key, 7, ?) = ? ORDER BY key LIMIT ?)`),
    // The same, keeping only keys of one length (the n-grams of one order: store/model/layout.ts).
    scanNsBelowPackedSized: prepare(`SELECT CAST(group_concat(${PACKED_ROW_SQL}, '' ORDER BY key) AS BLOB) AS rows, count(*) AS n, max(key) AS last
                                     FROM (SELECT key, value FROM kv WHERE key >= ? AND key < ? AND substr(key, 7, ?) = ? AND length(key) = ? ORDER BY key LIMIT ?)`),
    // scanPacked: the rows packed by SQLite into one blob rather than a key and a value Buffer per
    // row, ~5x cheaper a row; one aggregate over the range, with no LIMIT subquery, which costs more
    // than a short range's whole read (the cap is a key bound). The pieces are joined as they are
    // (`||` keeps a blob's bytes, NULs included, as packed_rows.ts's PACKED_ROW_SQL relies on), not
    // as hex unhexed at the end: a fifth less SQLite time per cold generated token's request.
    // \`bad\` counts rows too short to cut, or holding a counter, for the caller to refuse.
    scanPacked: prepare(`SELECT CAST(group_concat(substr(key, -@tail) || substr(value, 1, @head), '') AS BLOB) AS rows, max(key) AS last, count(*) AS n,
                                sum(length(key) < @tail OR typeof(value) <> 'blob' OR length(value) < @head) AS bad
                         FROM kv WHERE key >= @lo AND key < @hi`),
    // The n-th key of a range (keys only): where a filtered scan stops examining.
    keyAt: prepare('SELECT key FROM kv WHERE key >= ? AND key < ? ORDER BY key LIMIT 1 OFFSET ?').pluck(),
    lastKey: prepare('SELECT key FROM kv WHERE key >= ? AND key < ? ORDER BY key DESC LIMIT 1').pluck(),
    dedupRange: prepare('SELECT producer, seq, anchor FROM dedup WHERE anchor >= ? AND anchor < ?'),
    dedupRangeOpen: prepare('SELECT producer, seq, anchor FROM dedup WHERE anchor >= ?'),
    sizeRange: prepare(`SELECT count(*) AS n, coalesce(sum(length(key) + CASE WHEN typeof(value) = 'integer' THEN 8 ELSE length(value) END), 0) AS b
                  FROM kv WHERE key >= ? AND key < ?`),
    sizeRangeOpen: prepare(`SELECT count(*) AS n, coalesce(sum(length(key) + CASE WHEN typeof(value) = 'integer' THEN 8 ELSE length(value) END), 0) AS b
                      FROM kv WHERE key >= ?`),
  };
}

export class ForkReads {
  protected readonly reads: Record<ReadStatement, Database.Statement>;

  constructor(readonly db: Database.Database) {
    this.reads = readStatements(db);
  }

  /** Up to `limit` rows with keys in [prefix range], strictly after `after` if given, in key order. */
  scan(prefix: Buffer, after: Buffer | null, limit: number): { key: Buffer; value: StoredValue }[] {
    const hi = prefixEnd(prefix);
    const from = after && Buffer.compare(after, prefix) >= 0 ? after : null;
    if (from) return (hi ? this.reads.scanAfter.all(from, hi, limit) : this.reads.scanAfterOpen.all(from, limit)) as { key: Buffer; value: StoredValue }[];
    return (hi ? this.reads.scanFrom.all(prefix, hi, limit) : this.reads.scanFromOpen.all(prefix, limit)) as { key: Buffer; value: StoredValue }[];
  }

  /**
   * Like scan, each row packed as its key's last `keyTail` bytes and its value's first `valueHead`
   * bytes, back to back (`rows`, empty when none), in the order SQLite walks the key range (key
   * order in practice, but SQL does not promise an aggregate's order: callers that care sort).
   * `next` is the last key when `limit` rows came and more follow. `bad`: rows shorter than that
   * or holding a counter (their bytes in `rows` mean nothing).
   */
  scanPacked(prefix: Buffer, after: Buffer | null, limit: number, keyTail: number, valueHead: number): { rows: Buffer; next: Buffer | null; bad: number } {
    const s = this.reads;
    // "key > after" is "key >= after 0x00": the least byte string above it.
    const lo = after && Buffer.compare(after, prefix) >= 0 ? Buffer.concat([after, Buffer.of(0)]) : prefix;
    const end = prefixEnd(prefix) ?? ABOVE_ALL_KEYS;
    const read = (hi: Buffer) => s.scanPacked.get({ tail: keyTail, head: valueHead, lo, hi }) as { rows: Buffer | null; last: Buffer | null; n: number; bad: number | null };
    // A range's first page is read whole, and bounded only when it holds more than `limit` rows:
    // most ranges fit (a context's followers; a cold generated token reads ~3), and the bounding
    // query costs about a third of a short range's read. Later pages (a range known to be long)
    // are bounded first, so a long range is read whole once at most, not once per page.
    if (lo === prefix) {
      const whole = read(end);
      if (whole.n <= limit) return { rows: whole.rows ?? EMPTY_VALUE, next: null, bad: whole.bad ?? 0 };
    }
    // The first key past the cap, if any, bounds the range instead of a LIMIT.
    const past = s.keyAt.get(lo, end, limit) as Buffer | undefined;
    const r = read(past ?? end);
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
    const s = this.reads;
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

  /**
   * scanMarked's page as one packed blob (store/protocol/packed_rows.ts), for a reader that takes
   * whole pages: a namespace scan from a client, or a smoothing job's own pages. With `keyBytes`
   * and no cap on the rows examined, only keys of that length come (one order's n-grams of a
   * model, whose other orders' rows would be packed and unpacked for nothing).
   */
  scanMarkedPacked(prefix: Buffer, after: Buffer | null, limit: number, marker: Buffer, examine: number, keyBytes = 0): { rows: Buffer; count: number; next: Buffer | null } {
    const hi = prefixEnd(prefix) ?? ABOVE_ALL_KEYS;
    const s = this.reads;
    const lo = after && Buffer.compare(after, prefix) >= 0 ? Buffer.concat([after, Buffer.of(0)]) : prefix;
    if (examine === Infinity) {
      const page = (keyBytes > 0 ? s.scanNsBelowPackedSized.get(lo, hi, marker.length, marker, keyBytes, limit) : s.scanNsBelowPacked.get(lo, hi, marker.length, marker, limit)) as { rows: Buffer | null; n: number; last: Buffer | null };
      return { rows: page.rows ?? EMPTY_VALUE, count: page.n, next: page.n === limit ? page.last : null };
    }
    const window = Math.max(1, Math.min(examine, 2 * limit));
    const capped = s.keyAt.get(lo, hi, window - 1) as Buffer | undefined;
    const upTo = capped ?? (s.lastKey.get(lo, hi) as Buffer | undefined);
    if (!upTo) return { rows: EMPTY_VALUE, count: 0, next: null };
    const page = s.scanNsPacked.get(lo, upTo, marker.length, marker, limit) as { rows: Buffer | null; n: number; last: Buffer | null };
    const rows = page.rows ?? EMPTY_VALUE;
    if (page.n === limit) return { rows, count: page.n, next: page.last };
    return { rows, count: page.n, next: capped ?? null };
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
    return (hi ? this.reads.dedupRange.all(prefix, hi) : this.reads.dedupRangeOpen.all(prefix)) as { producer: string; seq: number; anchor: Buffer }[];
  }

  /** Rows and bytes (key + value; counters count 8) under `prefix`. */
  size(prefix: Buffer): { keys: number; bytes: number } {
    const hi = prefixEnd(prefix);
    const r = (hi ? this.reads.sizeRange.get(prefix, hi) : this.reads.sizeRangeOpen.get(prefix)) as { n: number; b: number };
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
}
