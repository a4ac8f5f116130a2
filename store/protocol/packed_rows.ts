// Whole rows (key and value) of a scan page packed into one blob by SQLite (ScanRequest.packed,
// ForkDb.scanMarkedPacked): per row `u16be(len(key)) | u8(kind) | u32be(len(value)) | key | value`,
// kind 1 for bytes, 2 for a counter (8 bytes, big-endian two's complement).
//
// A row read as a JS object with a key and a value Buffer costs better-sqlite3 ~6 us (Buffers are
// allocated one by one); packed, SQLite's own string functions do the work, ~0.7 us a row, and the
// reader takes keys and values as views of the one blob. Reading KenLM's kjv3 model back from an
// actor (544k n-grams) went from 3.3-3.7 s of the actor's time to 0.36-0.4 s.
import { StoreError } from './errors.js';

export const PACKED_BYTES = 1;
export const PACKED_COUNTER = 2;
const HEADER = 7;

/**
 * The SQL expression of one row of table kv in the packed form. The pieces are blobs joined with
 * `||`, which SQLite treats as text: it keeps the bytes as they are (NULs included), and the
 * aggregate is cast back to a blob (sqlite.org/lang_expr.html#castexpr: the bytes unchanged).
 */
export const PACKED_ROW_SQL = `unhex(printf('%04X%02X%08X', length(key),
    CASE typeof(value) WHEN 'integer' THEN ${PACKED_COUNTER} ELSE ${PACKED_BYTES} END,
    CASE typeof(value) WHEN 'integer' THEN 8 ELSE length(value) END))
  || key || CASE typeof(value) WHEN 'integer' THEN unhex(printf('%016X', value)) ELSE value END`;

/** The rows of a packed blob: keys and byte values are views of it, counters bigints. */
export function unpackRows(packed: Buffer): { keys: Buffer[]; values: (Buffer | bigint)[] } {
  const keys: Buffer[] = [];
  const values: (Buffer | bigint)[] = [];
  let pos = 0;
  while (pos < packed.length) {
    if (pos + HEADER > packed.length) throw new StoreError('INTERNAL', `a packed scan page ends inside a row header at byte ${pos} of ${packed.length}`);
    const keyLength = packed.readUInt16BE(pos);
    const kind = packed[pos + 2]!;
    const valueLength = packed.readUInt32BE(pos + 3);
    const keyAt = pos + HEADER;
    const valueAt = keyAt + keyLength;
    pos = valueAt + valueLength;
    if (pos > packed.length) throw new StoreError('INTERNAL', `a packed scan page ends inside a row at byte ${keyAt} of ${packed.length}`);
    keys.push(packed.subarray(keyAt, valueAt));
    if (kind === PACKED_COUNTER && valueLength === 8) values.push(packed.readBigInt64BE(valueAt));
    else if (kind === PACKED_BYTES) values.push(packed.subarray(valueAt, pos));
    else throw new StoreError('INTERNAL', `a packed scan row at byte ${keyAt - HEADER} has kind ${kind} with ${valueLength} bytes`);
  }
  return { keys, values };
}
