// The compact form of a batch of increments and marks (BatchReq.incrs and .marks, schemas/data.ts).
//
// An Avro array of Op records costs the actor a record object, a copied key Buffer and a bigint-free
// long decode per op, which the profile showed as ~10% of the actor's time on the counting stage's
// traffic plus the garbage it leaves. The packed form is one bytes field: per increment
// `u32le(len(key)) | key | i64le(delta)`. The actor reads it with plain offsets and takes the keys as
// views of the frame (no copy). Marks (OP_MARK, the count stage's LEFT and FIRST keys, most of its
// keys) are packed the same way without the delta: `u32le(len(key)) | key`.
import { StoreError } from './errors.js';

const TWO_32 = 2 ** 32;

/** Pack keys and deltas (safe integers) into the `incrs` bytes of a batch. */
export function packIncrs(keys: Buffer[], deltas: number[]): Buffer {
  let size = 0;
  for (const k of keys) size += 12 + k.length;
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const d = deltas[i]!;
    if (!Number.isSafeInteger(d)) throw new RangeError(`increment ${d} is not a safe integer`);
    out.writeUInt32LE(k.length, pos);
    k.copy(out, pos + 4);
    pos += 4 + k.length;
    const hi = Math.floor(d / TWO_32);
    out.writeUInt32LE(d - hi * TWO_32, pos);
    out.writeInt32LE(hi, pos + 4);
    pos += 8;
  }
  return out;
}

/**
 * Unpack `incrs`; keys are views of `buf`. A truncated or over-long record, or a delta outside the
 * safe integer range, is a BAD_REQUEST naming the byte offset. Bounded by the bytes present: every
 * key length is checked against them before the key is taken, nothing is copied, and each record
 * takes at least 12 bytes, so the arrays hold at most len(buf) / 12 entries.
 */
export function unpackIncrs(buf: Buffer): { keys: Buffer[]; deltas: number[] } {
  const keys: Buffer[] = [];
  const deltas: number[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (pos + 4 > buf.length) throw bad(buf, pos, 'a truncated key length');
    const len = buf.readUInt32LE(pos);
    if (pos + 4 + len + 8 > buf.length) throw bad(buf, pos, `a key of ${len} bytes plus its 8-byte delta running past the end`);
    keys.push(buf.subarray(pos + 4, pos + 4 + len));
    pos += 4 + len;
    const d = buf.readInt32LE(pos + 4) * TWO_32 + buf.readUInt32LE(pos);
    if (!Number.isSafeInteger(d)) throw bad(buf, pos, 'an increment outside the safe integer range (|d| < 2^53)');
    deltas.push(d);
    pos += 8;
  }
  return { keys, deltas };
}

function bad(buf: Buffer, pos: number, what: string): StoreError {
  return new StoreError('BAD_REQUEST', `batch incrs (${buf.length} bytes, packed u32le len | key | i64le delta) has ${what} at byte ${pos}`);
}

/** Pack the keys of a batch's marks. */
export function packMarks(keys: Buffer[]): Buffer {
  let size = 0;
  for (const k of keys) size += 4 + k.length;
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const k of keys) {
    out.writeUInt32LE(k.length, pos);
    pos += 4 + k.copy(out, pos + 4);
  }
  return out;
}

/** Unpack `marks`; keys are views of `buf`. A truncated record is a BAD_REQUEST naming the byte offset. */
export function unpackMarks(buf: Buffer): Buffer[] {
  const keys: Buffer[] = [];
  for (let pos = 0; pos < buf.length; ) {
    if (pos + 4 > buf.length) throw badMarks(buf, pos, 'a truncated key length');
    const len = buf.readUInt32LE(pos);
    if (pos + 4 + len > buf.length) throw badMarks(buf, pos, `a key of ${len} bytes running past the end`);
    keys.push(buf.subarray(pos + 4, pos + 4 + len));
    pos += 4 + len;
  }
  return keys;
}

function badMarks(buf: Buffer, pos: number, what: string): StoreError {
  return new StoreError('BAD_REQUEST', `batch marks (${buf.length} bytes, packed u32le len | key) has ${what} at byte ${pos}`);
}

/** One fork's share of a batch, packed: `anchor` is its first key (it routes the batch). */
export interface PackedFork {
  anchor: Buffer;
  incrs: Buffer;
  marks: Buffer;
}

/**
 * Split a batch given packed (`keys` back to back with their `lengths`; the first deltas.length
 * are increments by `deltas`, the rest marks) into each fork's packed incrs and marks, straight from
 * the bytes: two passes (sizes, then copies) and no object kept per key.
 */
export function packByFork(keys: Buffer, lengths: Uint32Array, deltas: readonly number[], forkOf: (key: Buffer) => string): Map<string, PackedFork> {
  const n = lengths.length;
  const slot = new Uint32Array(n);
  const names = new Map<string, number>();
  const anchors: Buffer[] = [];
  const incrBytes: number[] = [];
  const markBytes: number[] = [];
  for (let i = 0, at = 0; i < n; at += lengths[i++]!) {
    const key = keys.subarray(at, at + lengths[i]!);
    const fork = forkOf(key);
    let f = names.get(fork);
    if (f === undefined) {
      names.set(fork, (f = anchors.length));
      anchors.push(key);
      incrBytes.push(0);
      markBytes.push(0);
    }
    slot[i] = f;
    if (i < deltas.length) {
      if (!Number.isSafeInteger(deltas[i])) throw new RangeError(`increment ${deltas[i]} is not a safe integer`);
      incrBytes[f] += 12 + key.length;
    } else markBytes[f] += 4 + key.length;
  }
  const incrs = incrBytes.map((b) => Buffer.allocUnsafe(b));
  const marks = markBytes.map((b) => Buffer.allocUnsafe(b));
  const incrAt = new Array<number>(anchors.length).fill(0);
  const markAt = new Array<number>(anchors.length).fill(0);
  for (let i = 0, at = 0; i < n; at += lengths[i++]!) {
    const f = slot[i]!;
    const len = lengths[i]!;
    if (i < deltas.length) {
      const out = incrs[f]!;
      let pos = incrAt[f]!;
      out.writeUInt32LE(len, pos);
      pos += 4 + keys.copy(out, pos + 4, at, at + len);
      const d = deltas[i]!;
      const hi = Math.floor(d / TWO_32);
      out.writeUInt32LE(d - hi * TWO_32, pos);
      out.writeInt32LE(hi, pos + 4);
      incrAt[f] = pos + 8;
    } else {
      const out = marks[f]!;
      const pos = markAt[f]!;
      out.writeUInt32LE(len, pos);
      markAt[f] = pos + 4 + keys.copy(out, pos + 4, at, at + len);
    }
  }
  return new Map([...names].map(([fork, f]) => [fork, { anchor: anchors[f]!, incrs: incrs[f]!, marks: marks[f]! }]));
}
