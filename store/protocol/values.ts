// Conversions between stored values (Buffer or bigint counter) and wire values (kind + bytes), and the
// size limit of byte values.
import { VALUE_BYTES, VALUE_COUNTER, VALUE_MISSING, type WireValue } from '../../schemas/values.js';
import { StoreError } from './errors.js';

export const MAX_VALUE_BYTES = 16 * 1024 * 1024;

const EMPTY = Buffer.alloc(0);

export function counterBytes(v: bigint): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigInt64LE(BigInt.asIntN(64, v));
  return b;
}

export function storedToWire(v: Buffer | bigint | undefined): WireValue {
  if (v === undefined) return { kind: VALUE_MISSING, data: EMPTY };
  if (typeof v === 'bigint') return { kind: VALUE_COUNTER, data: counterBytes(v) };
  return { kind: VALUE_BYTES, data: v };
}

/** A wire value as stored; one that is no value is the sender's BAD_REQUEST. */
export function wireToStored(w: WireValue): Buffer | bigint | undefined {
  if (w.kind === VALUE_MISSING) return undefined;
  if (w.kind === VALUE_COUNTER) {
    if (w.data.length !== 8) throw new StoreError('BAD_REQUEST', `counter value has ${w.data.length} bytes; counters are 8 bytes little-endian`);
    return w.data.readBigInt64LE(0);
  }
  if (w.kind === VALUE_BYTES) return w.data;
  throw new StoreError('BAD_REQUEST', `value kind ${w.kind} is not 0 (missing), 1 (bytes) or 2 (counter)`);
}

/** The size check of every byte value a request writes: at most `maxBytes` (TOO_LARGE). */
export function checkValueSize(value: Buffer, maxBytes: number): void {
  if (value.length > maxBytes) throw new StoreError('TOO_LARGE', `value of ${value.length} bytes exceeds the ${maxBytes}-byte limit`);
}
