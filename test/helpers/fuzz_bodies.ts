// Seeded hostile request bodies for the store fuzz (test/store_fuzz.test.ts, bench/store_fuzz.ts).
// Purely random bytes mostly fail at their first byte, so most bodies start from a *valid*
// encoding of the command's request type, built from a pool of meaningful values (real keys,
// fork ids, reducer names, edge-case integers) and then, often, damaged: bytes flipped, cut
// short, garbage appended, or a huge varint count/length spliced in where avsc would trust it.
import type avro from 'avsc';
import { makeKey, rangePrefix } from '../../store/protocol/keys.js';

/** mulberry32: a small seeded PRNG, so every run sends the same bodies. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/**
 * Varints that claim far more items or bytes than any body holds: a count near 2^31 (5 bytes,
 * the body that once made an actor allocate for seconds), near 2^53 and 2^63, and negative
 * block counts (an Avro block with a byte size).
 */
export const HOSTILE_VARINTS: readonly Buffer[] = [
  Buffer.from('feffffff0f', 'hex'),
  Buffer.from('feffffffffffff0f', 'hex'),
  Buffer.from('feffffffffffffff7f', 'hex'),
  Buffer.from('ffffffffffffffffff01', 'hex'),
  Buffer.from('fdffffff0f', 'hex'),
  Buffer.from('80808080808080808080', 'hex'), // an 11th byte would be needed: never terminates in 10
];

const LONGS = [0, 1, -1, 2, 63, 64, -65, 127, 128, 255, 4096, 65535, 2 ** 31 - 1, -(2 ** 31), 2 ** 32, 2 ** 53 - 2, -(2 ** 53 - 2)]; // avsc encodes longs up to 2^53 - 2
const INTS = [0, 1, -1, 2, 64, 4096, 2 ** 31 - 1, -(2 ** 31)];

/** Values that mean something to an actor, so valid bodies get past the first check. */
export interface FuzzPool {
  strings: readonly string[];
  bytes: readonly Buffer[];
}

export function defaultPool(actorId: string): FuzzPool {
  const keys = ['fz:ctx|a', 'fz:ctx|b', 'fz:other|a', 'kv:k', 'ng:the cat|sat'].map((t) => {
    const [ns, rest] = t.split(':') as [string, string];
    const [prefix, tail] = rest.split('|');
    return makeKey(ns, Buffer.from(prefix!), Buffer.from(tail ?? ''));
  });
  return {
    // No endpoint-looking strings: a fuzzed actor must never be sent off to connect somewhere.
    strings: ['', actorId, '00', '3f', 'ff', '3f0a', 'count', 'sum', 'counts-of-counts', 'follower-stats', 'p', 'x'.repeat(300), '\u0000', 'é'],
    bytes: [Buffer.alloc(0), ...keys, rangePrefix('fz', Buffer.from('ctx')), Buffer.from([0x3f]), Buffer.from([1, 2, 3]), Buffer.alloc(16, 0xff)],
  };
}

interface TypeInternals {
  typeName: string;
  fields?: { type: avro.Type }[];
  itemsType?: avro.Type;
  valuesType?: avro.Type;
  types?: avro.Type[];
  size?: number;
  symbols?: string[];
  underlyingType?: avro.Type;
}

/** A random valid value of `type`, depth-limited so recursive types end. */
export function randomValue(type: avro.Type, rng: Rng, pool: FuzzPool, depth = 0): unknown {
  const t = type as unknown as TypeInternals;
  switch (t.typeName) {
    case 'null':
      return null;
    case 'boolean':
      return rng.int(2) === 1;
    case 'int':
      return rng.int(3) ? rng.pick(INTS) : rng.int(1000) - 500;
    case 'long':
      return rng.int(3) ? rng.pick(LONGS) : rng.int(100000) - 50000;
    case 'float':
    case 'double':
      return rng.pick([0, -1, 0.5, 1e300, Number.NaN]);
    case 'string':
      return rng.int(4) ? rng.pick(pool.strings) : rng.bytes(rng.int(8)).toString('latin1');
    case 'bytes':
      return rng.int(3) ? rng.pick(pool.bytes) : rng.bytes(rng.int(40));
    case 'fixed':
      return rng.bytes(t.size!);
    case 'enum':
      return rng.pick(t.symbols!);
    case 'record':
    case 'error': {
      const out: Record<string, unknown> = {};
      for (const f of t.fields! as unknown as { name: string; type: avro.Type }[]) out[f.name] = randomValue(f.type, rng, pool, depth + 1);
      return out;
    }
    case 'array': {
      const n = depth > 4 ? 0 : rng.pick([0, 1, 1, 2, 3, 8]);
      return Array.from({ length: n }, () => randomValue(t.itemsType!, rng, pool, depth + 1));
    }
    case 'map': {
      const out: Record<string, unknown> = {};
      const n = depth > 4 ? 0 : rng.int(3);
      for (let i = 0; i < n; i++) out[rng.pick(pool.strings)] = randomValue(t.valuesType!, rng, pool, depth + 1);
      return out;
    }
    case 'union:wrapped':
    case 'union:unwrapped': {
      const branch = t.types![depth > 4 ? 0 : rng.int(t.types!.length)]!;
      const v = randomValue(branch, rng, pool, depth + 1);
      return t.typeName === 'union:wrapped' && v !== null ? { [branch.branchName!]: v } : v;
    }
    default:
      if (t.typeName.startsWith('logical')) return randomValue(t.underlyingType!, rng, pool, depth);
      throw new Error(`fuzz: Avro type ${t.typeName} is not supported`);
  }
}

/** What a body was made of (the bench prints replies by kind too). */
export type BodyKind = 'valid' | 'mutated' | 'hostile-count' | 'random-short' | 'random-long';

/** Damage an encoding: flip bytes, cut it, append garbage or splice a hostile varint in. */
function mutate(body: Buffer, rng: Rng): Buffer {
  switch (rng.int(4)) {
    case 0: {
      const out = Buffer.from(body);
      for (let i = 0, n = 1 + rng.int(3); i < n && out.length; i++) out[rng.int(out.length)] = rng.int(256);
      return out;
    }
    case 1:
      return body.subarray(0, rng.int(body.length + 1));
    case 2:
      return Buffer.concat([body, rng.bytes(1 + rng.int(16))]);
    default: {
      const at = rng.int(body.length + 1);
      return Buffer.concat([body.subarray(0, at), rng.pick(HOSTILE_VARINTS), body.subarray(at + rng.int(3))]);
    }
  }
}

/** One body for a command whose request type is `type`. */
export function fuzzBody(type: avro.Type, rng: Rng, pool: FuzzPool): { kind: BodyKind; body: Buffer } {
  const roll = rng.int(100);
  if (roll < 10) return { kind: 'random-short', body: rng.bytes(rng.int(65)) };
  if (roll < 15) return { kind: 'random-long', body: rng.bytes(65 + rng.int(4096)) };
  if (roll < 25) return { kind: 'hostile-count', body: Buffer.concat([rng.pick(HOSTILE_VARINTS), rng.bytes(rng.int(8))]) };
  const valid = type.toBuffer(randomValue(type, rng, pool));
  if (roll < 55) return { kind: 'valid', body: valid };
  return { kind: 'mutated', body: mutate(valid, rng) };
}
