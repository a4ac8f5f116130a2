// Bodies of the data commands: point reads and writes, exactly-once batches, scans, reducers,
// summaries and purges. Each command's TypeScript types stand beside its Avro schema.
import { avroType, command, EmptyType, type Empty } from './command.js';
import { WireValueType, type WireValue } from './values.js';

const name = (n: string) => `dbslm.store.${n}`;
const bytesArray = { type: 'array', items: 'bytes' };

export interface KeysBody {
  keys: Buffer[];
}
const KeysType = avroType({ type: 'record', name: name('Keys'), fields: [{ name: 'keys', type: bytesArray }] });
export interface CountBody {
  count: number;
}
const CountType = avroType({ type: 'record', name: name('Count'), fields: [{ name: 'count', type: 'long' }] });

export interface KeyValue {
  key: Buffer;
  value: Buffer;
}
export interface KeyDelta {
  key: Buffer;
  delta: number;
}

export const OP_SET = 0;
export const OP_DELETE = 1;
export const OP_INCR = 2;
/** Create the key with the empty value unless it exists (whatever it holds): an idempotent "this was seen" that never overwrites. */
export const OP_MARK = 3;
export interface BatchOp {
  op: number;
  key: Buffer;
  value: Buffer;
  delta: number;
}
export interface BatchRequest {
  producer: string;
  seq: number;
  /** Every seq below `floor` is acknowledged to this producer and will never be resent, so the actor may forget its dedup records. */
  floor: number;
  ops: BatchOp[];
  /** All-increment batches may come packed instead of as `ops` (one or the other): per increment u32le(len(key)) | key | i64le(delta) (store/protocol/packed_incrs.ts). */
  incrs: Buffer;
  /** Packed OP_MARK keys, with packed `incrs` (not with `ops`), applied after them: per key u32le(len(key)) | key (store/protocol/packed_incrs.ts). */
  marks?: Buffer;
}
export interface ScanRequest {
  prefix: Buffer;
  after: Buffer | null;
  limit: number;
  keysOnly: boolean;
  /**
   * Only keys of this namespace (its UTF-8 bytes); empty or absent: every key. Keys of one
   * namespace are spread over every fork by their routing bytes, so reading a namespace means
   * scanning whole forks, and the actor skipping the others saves shipping them.
   */
  namespace?: Buffer;
  /** `namespace` names a family: keys whose namespace starts with it (e.g. `kjv5.` for every namespace of model kjv5). */
  namespacePrefix?: boolean;
  /** With a namespace (and not keysOnly): the page's rows come packed in `rows`, not as keys and values (store/protocol/packed_rows.ts). */
  packed?: boolean;
}
export interface ScanReply {
  keys: Buffer[];
  values: WireValue[];
  next: Buffer | null;
  /** A packed page's rows (ScanRequest.packed); empty otherwise. */
  rows?: Buffer;
}
/** Several small scans in one request: one range per prefix, each within a fork the receiver owns. */
export interface ScanManyRequest {
  prefixes: Buffer[];
  /** Rows per prefix at most; a longer range replies with `next` set, for a scan to go on from. */
  limit: number;
}
export interface ScanManyReply {
  ranges: ScanReply[];
}
/**
 * Several short ranges with their rows packed: each row as its key's last `keyTail` bytes and its
 * value's first `valueHead` bytes, back to back in one bytes field per range. For ranges of
 * fixed-width rows (a model context's followers: word id and log10 p) that a reader wants as a
 * table, not as a key and a value object per row.
 */
export interface ScanPackedRequest {
  prefixes: Buffer[];
  /** Per prefix, the key to go on after (a reply's `next`), or empty bytes to start at the prefix. */
  afters: Buffer[];
  /** Rows per prefix at most; a longer range replies with `next` set. */
  limit: number;
  keyTail: number;
  valueHead: number;
}
export interface PackedRange {
  rows: Buffer;
  next: Buffer | null;
}
export interface ReduceRequest {
  name: string;
  prefix: Buffer;
  args: Buffer;
}
export interface SummaryBranch {
  branch: Buffer;
  entries: number;
  bytes: number;
}
export interface SummaryReply {
  entries: number;
  bytes: number;
  branches: SummaryBranch[];
}

export const DATA_COMMANDS = {
  ping: command<Empty, { id: string; epoch: number }>(
    'ping',
    EmptyType,
    avroType({ type: 'record', name: name('Pong'), fields: [{ name: 'id', type: 'string' }, { name: 'epoch', type: 'long' }] }),
  ),
  get: command<KeysBody, { values: WireValue[] }>(
    'get',
    KeysType,
    avroType({ type: 'record', name: name('Values'), fields: [{ name: 'values', type: { type: 'array', items: WireValueType } }] }),
  ),
  set: command<{ entries: KeyValue[] }, Empty>(
    'set',
    avroType({
      type: 'record',
      name: name('SetRequest'),
      fields: [{ name: 'entries', type: { type: 'array', items: { type: 'record', name: name('KeyValue'), fields: [{ name: 'key', type: 'bytes' }, { name: 'value', type: 'bytes' }] } } }],
    }),
    EmptyType,
  ),
  delete: command<KeysBody, CountBody>('delete', KeysType, CountType),
  incr: command<{ entries: KeyDelta[] }, { totals: number[] }>(
    'incr',
    avroType({
      type: 'record',
      name: name('IncrRequest'),
      fields: [{ name: 'entries', type: { type: 'array', items: { type: 'record', name: name('KeyDelta'), fields: [{ name: 'key', type: 'bytes' }, { name: 'delta', type: 'long' }] } } }],
    }),
    avroType({ type: 'record', name: name('Totals'), fields: [{ name: 'totals', type: { type: 'array', items: 'long' } }] }),
  ),
  batch: command<BatchRequest, { duplicate: boolean }>(
    'batch',
    avroType({
      type: 'record',
      name: name('BatchRequest'),
      fields: [
        { name: 'producer', type: 'string' },
        { name: 'seq', type: 'long' },
        { name: 'floor', type: 'long' },
        {
          name: 'ops',
          type: {
            type: 'array',
            items: {
              type: 'record',
              name: name('Op'),
              fields: [
                { name: 'op', type: 'int' },
                { name: 'key', type: 'bytes' },
                { name: 'value', type: 'bytes' },
                { name: 'delta', type: 'long' },
              ],
            },
          },
        },
        { name: 'incrs', type: 'bytes', default: '' },
        { name: 'marks', type: 'bytes', default: '' },
      ],
    }),
    avroType({ type: 'record', name: name('BatchReply'), fields: [{ name: 'duplicate', type: 'boolean' }] }),
  ),
  scan: command<ScanRequest, ScanReply>(
    'scan',
    avroType({
      type: 'record',
      name: name('ScanRequest'),
      fields: [
        { name: 'prefix', type: 'bytes' },
        { name: 'after', type: ['null', 'bytes'], default: null },
        { name: 'limit', type: 'int' },
        { name: 'keysOnly', type: 'boolean', default: false },
        { name: 'namespace', type: 'bytes', default: '' },
        { name: 'namespacePrefix', type: 'boolean', default: false },
        { name: 'packed', type: 'boolean', default: false },
      ],
    }),
    avroType({
      type: 'record',
      name: name('ScanReply'),
      fields: [
        { name: 'keys', type: bytesArray },
        { name: 'values', type: { type: 'array', items: WireValueType } },
        { name: 'next', type: ['null', 'bytes'], default: null },
        { name: 'rows', type: 'bytes', default: '' },
      ],
    }),
  ),
  'scan-many': command<ScanManyRequest, ScanManyReply>(
    'scan-many',
    avroType({ type: 'record', name: name('ScanManyRequest'), fields: [{ name: 'prefixes', type: bytesArray }, { name: 'limit', type: 'int' }] }),
    avroType({ type: 'record', name: name('ScanManyReply'), fields: [{ name: 'ranges', type: { type: 'array', items: name('ScanReply') } }] }),
  ),
  'scan-packed': command<ScanPackedRequest, { ranges: PackedRange[] }>(
    'scan-packed',
    avroType({
      type: 'record',
      name: name('ScanPackedRequest'),
      fields: [
        { name: 'prefixes', type: bytesArray },
        { name: 'afters', type: bytesArray },
        { name: 'limit', type: 'int' },
        { name: 'keyTail', type: 'int' },
        { name: 'valueHead', type: 'int' },
      ],
    }),
    avroType({
      type: 'record',
      name: name('ScanPackedReply'),
      fields: [
        {
          name: 'ranges',
          type: { type: 'array', items: { type: 'record', name: name('PackedRange'), fields: [{ name: 'rows', type: 'bytes' }, { name: 'next', type: ['null', 'bytes'], default: null }] } },
        },
      ],
    }),
  ),
  reduce: command<ReduceRequest, { result: Buffer }>(
    'reduce',
    avroType({
      type: 'record',
      name: name('ReduceRequest'),
      fields: [
        { name: 'name', type: 'string' },
        { name: 'prefix', type: 'bytes' },
        { name: 'args', type: 'bytes' },
      ],
    }),
    avroType({ type: 'record', name: name('ReduceReply'), fields: [{ name: 'result', type: 'bytes' }] }),
  ),
  summary: command<{ prefix: Buffer; depth: number }, SummaryReply>(
    'summary',
    avroType({ type: 'record', name: name('SummaryRequest'), fields: [{ name: 'prefix', type: 'bytes' }, { name: 'depth', type: 'int' }] }),
    avroType({
      type: 'record',
      name: name('SummaryReply'),
      fields: [
        { name: 'entries', type: 'long' },
        { name: 'bytes', type: 'long' },
        {
          name: 'branches',
          type: {
            type: 'array',
            items: {
              type: 'record',
              name: name('Branch'),
              fields: [
                { name: 'branch', type: 'bytes' },
                { name: 'entries', type: 'long' },
                { name: 'bytes', type: 'long' },
              ],
            },
          },
        },
      ],
    }),
  ),
  purge: command<{ prefix: Buffer }, CountBody>('purge', avroType({ type: 'record', name: name('PurgeRequest'), fields: [{ name: 'prefix', type: 'bytes' }] }), CountType),
  reset: command<Empty, CountBody>('reset', EmptyType, CountType),
};
