// Conversions between stored values (Buffer or bigint counter) and wire values (kind + bytes).
import { VALUE_BYTES, VALUE_COUNTER, VALUE_MISSING, type WireValue } from '../../schemas/values.js';

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

export function wireToStored(w: WireValue): Buffer | bigint | undefined {
  if (w.kind === VALUE_MISSING) return undefined;
  if (w.kind === VALUE_COUNTER) {
    if (w.data.length !== 8) throw new Error(`counter value has ${w.data.length} bytes; counters are 8 bytes little-endian`);
    return w.data.readBigInt64LE(0);
  }
  if (w.kind === VALUE_BYTES) return w.data;
  throw new Error(`value kind ${w.kind} is not 0 (missing), 1 (bytes) or 2 (counter)`);
}
