// Server-side reducers: named functions an actor runs over the rows of a key range it owns, so
// statistics such as counts-of-counts are computed where the counts live and only small results
// travel. Model code registers its own with `registerReducer` (in the actor process: load the module
// with `dbslm store start --plugin MODULE`); results from several forks are merged with `combine`.
// Arguments come from any client: a reducer declares their Avro type (`args`) and the actor checks
// the bytes against it before `run` (schemas/bounded_check.ts), so decoding them cannot be made to
// allocate on a count the bytes do not hold; `decodeArgs` / `decodeResult` decode them bounded too.
import avro from 'avsc';
import { decodeAs } from '../../schemas/command.js';
import { parseKey, ROUTING_BYTES } from '../protocol/keys.js';
import type { StoredValue } from './fork_db.js';

export interface Row {
  key: Buffer;
  value: StoredValue;
}

export interface Reducer {
  /**
   * The Avro type of `args`, when the reducer takes any: the actor refuses (BAD_REQUEST) arguments
   * that are not one encoding of it before `run`. Empty arguments are passed on unchecked (defaults).
   */
  args?: avro.Type;
  /** Reduce the rows (in key order) to an encoded result. `args` is the encoded argument. */
  run(rows: Iterable<Row>, args: Buffer): Buffer;
  /** Merge results of several ranges into one (used by clients fanning out over forks). */
  combine(results: Buffer[], args: Buffer): Buffer;
}

const registry = new Map<string, Reducer>();

export function registerReducer(name: string, reducer: Reducer): void {
  registry.set(name, reducer);
}
export function getReducer(name: string): Reducer | undefined {
  return registry.get(name);
}
export function reducerNames(): string[] {
  return [...registry.keys()].sort();
}

/** Decode a reducer's arguments (bounded, whole): a BadBody, which is the sender's BAD_REQUEST, if they are not one `type`. */
export function decodeArgs<V>(type: avro.Type, args: Buffer, reducer: string): V {
  return decodeAs<V>(type, args, `reducer ${reducer} args`);
}

/** Decode one result of `run` in `combine` (results travel from actors to clients). */
function decodeResult<V>(type: avro.Type, result: Buffer, reducer: string): V {
  return decodeAs<V>(type, result, `reducer ${reducer} result`);
}

function counterOf(r: Row): bigint | null {
  return typeof r.value === 'bigint' ? r.value : null;
}

// count: number of entries.
export const CountResult = avro.Type.forSchema({ type: 'record', name: 'dbslm.reduce.Count', fields: [{ name: 'entries', type: 'long' }] });
registerReducer('count', {
  run(rows) {
    let n = 0;
    for (const _ of rows) n++;
    return CountResult.toBuffer({ entries: n });
  },
  combine(results) {
    return CountResult.toBuffer({ entries: results.reduce((s, b) => s + decodeResult<{ entries: number }>(CountResult, b, 'count').entries, 0) });
  },
});

// sum: total of the counters (byte values are skipped and counted in `skipped`).
export const SumResult = avro.Type.forSchema({
  type: 'record',
  name: 'dbslm.reduce.Sum',
  fields: [
    { name: 'sum', type: 'string' },
    { name: 'counters', type: 'long' },
    { name: 'skipped', type: 'long' },
  ],
});
export interface SumValue {
  sum: string;
  counters: number;
  skipped: number;
}
registerReducer('sum', {
  run(rows) {
    let sum = 0n;
    let counters = 0;
    let skipped = 0;
    for (const r of rows) {
      const c = counterOf(r);
      if (c === null) skipped++;
      else {
        sum += c;
        counters++;
      }
    }
    return SumResult.toBuffer({ sum: sum.toString(), counters, skipped });
  },
  combine(results) {
    const vs = results.map((b) => decodeResult<SumValue>(SumResult, b, 'sum'));
    return SumResult.toBuffer({
      sum: vs.reduce((s, v) => s + BigInt(v.sum), 0n).toString(),
      counters: vs.reduce((s, v) => s + v.counters, 0),
      skipped: vs.reduce((s, v) => s + v.skipped, 0),
    });
  },
});

// counts-of-counts: how many counters equal 1, 2, ..., max, and how many exceed max
// (the n_r statistics behind Kneser-Ney discounts). args: {max}.
export const CocArgs = avro.Type.forSchema({ type: 'record', name: 'dbslm.reduce.CocArgs', fields: [{ name: 'max', type: 'int' }] });
export const CocResult = avro.Type.forSchema({
  type: 'record',
  name: 'dbslm.reduce.Coc',
  fields: [
    { name: 'counts', type: { type: 'array', items: 'long' } },
    { name: 'above', type: 'long' },
  ],
});
export interface CocValue {
  /** counts[r - 1] = number of counters equal to r, for r = 1..max. */
  counts: number[];
  above: number;
}
function cocMax(args: Buffer): number {
  const max = args.length ? decodeArgs<{ max: number }>(CocArgs, args, 'counts-of-counts').max : 4;
  if (!(max >= 1 && max <= 1_000_000)) throw new Error(`counts-of-counts max must be 1..1000000, got ${max}`);
  return max;
}
registerReducer('counts-of-counts', {
  args: CocArgs,
  run(rows, args) {
    const max = cocMax(args);
    const counts = new Array<number>(max).fill(0);
    let above = 0;
    for (const r of rows) {
      const c = counterOf(r);
      if (c === null || c < 1n) continue;
      if (c <= BigInt(max)) counts[Number(c) - 1] = counts[Number(c) - 1]! + 1;
      else above++;
    }
    return CocResult.toBuffer({ counts, above });
  },
  combine(results, args) {
    const max = cocMax(args);
    const counts = new Array<number>(max).fill(0);
    let above = 0;
    for (const b of results) {
      const v = decodeResult<CocValue>(CocResult, b, 'counts-of-counts');
      v.counts.forEach((n, i) => (counts[i] = counts[i]! + n));
      above += v.above;
    }
    return CocResult.toBuffer({ counts, above });
  },
});

// follower-stats: per routing prefix (context), the number of followers, their total count and how
// many have count 1, 2 and 3+ (what modified Kneser-Ney needs per context).
export const FollowerStatsResult = avro.Type.forSchema({
  type: 'record',
  name: 'dbslm.reduce.FollowerStats',
  fields: [
    {
      name: 'contexts',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'dbslm.reduce.ContextStats',
          fields: [
            { name: 'ns', type: 'string' },
            { name: 'prefix', type: 'bytes' },
            { name: 'followers', type: 'long' },
            { name: 'total', type: 'long' },
            { name: 'n1', type: 'long' },
            { name: 'n2', type: 'long' },
            { name: 'n3plus', type: 'long' },
          ],
        },
      },
    },
  ],
});
export interface ContextStats {
  ns: string;
  prefix: Buffer;
  followers: number;
  total: number;
  n1: number;
  n2: number;
  n3plus: number;
}
registerReducer('follower-stats', {
  run(rows) {
    const out: ContextStats[] = [];
    let cur: ContextStats | null = null;
    let curHead: Buffer | null = null;
    for (const r of rows) {
      const c = counterOf(r);
      if (c === null || c < 1n) continue;
      const headLen = ROUTING_BYTES + 2 + r.key.readUInt16BE(ROUTING_BYTES);
      const head = r.key.subarray(0, headLen);
      if (!curHead || !head.equals(curHead)) {
        const p = parseKey(r.key);
        cur = { ns: p.ns, prefix: Buffer.from(p.prefix), followers: 0, total: 0, n1: 0, n2: 0, n3plus: 0 };
        curHead = Buffer.from(head);
        out.push(cur);
      }
      const n = Number(c);
      cur!.followers++;
      cur!.total += n;
      if (n === 1) cur!.n1++;
      else if (n === 2) cur!.n2++;
      else cur!.n3plus++;
    }
    return FollowerStatsResult.toBuffer({ contexts: out });
  },
  combine(results) {
    return FollowerStatsResult.toBuffer({ contexts: results.flatMap((b) => decodeResult<{ contexts: ContextStats[] }>(FollowerStatsResult, b, 'follower-stats').contexts) });
  },
});
