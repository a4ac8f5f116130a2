// Avro schemas of the store's request/reply protocol (issue 3).
//
// Every ZeroMQ message between a client (DEALER) and a store actor (ROUTER) is one frame holding
// an encoded `Request` or `Reply`. The envelope is fixed; the `body` bytes hold the encoding of the
// command's own request/reply type from `COMMAND_TYPES`, so new command families (the cluster
// helper's gossip and migration, see schemas/cluster.ts) add their own types without touching the
// envelope or the actor's dispatch.
import avro from 'avsc';

const ns = 'dbslm.store';

/** A request: a client-chosen id echoed in the reply, a command name and the command's body. */
export interface Request {
  id: number;
  cmd: string;
  /** The fork-map version the client routed with (0 if unknown); informational, actors do not act on it. */
  epoch: number;
  body: Buffer;
}

export const REPLY_CODES = [
  'OK',
  'BAD_REQUEST', // malformed frame, body not decodable, key shorter than its routing bytes...
  'UNKNOWN_COMMAND',
  'TOO_LARGE', // key or value over the documented limits
  'WRONG_TYPE', // incr on a byte value, etc.
  'MOVED', // the fork is owned by another actor: see `redirect`
  'FENCED', // the fork is being moved; retry shortly (retryable)
  'CROSS_FORK', // a batch/scan/purge spans forks; split it by fork
  'STOPPING', // the actor is shutting down (retryable elsewhere/later)
  'INTERNAL',
] as const;
export type ReplyCode = (typeof REPLY_CODES)[number];

export interface Redirect {
  fork: string;
  owner: string;
  /** Owner's endpoint if this actor knows it, else '' (refetch the map). */
  endpoint: string;
  epoch: number;
}

export interface Reply {
  id: number;
  code: ReplyCode;
  message: string;
  retryable: boolean;
  redirect: Redirect | null;
  body: Buffer;
}

export const RequestType = avro.Type.forSchema({
  type: 'record',
  name: 'Request',
  namespace: ns,
  fields: [
    { name: 'id', type: 'long' },
    { name: 'cmd', type: 'string' },
    { name: 'epoch', type: 'long', default: 0 },
    { name: 'body', type: 'bytes' },
  ],
});

export const ReplyType = avro.Type.forSchema({
  type: 'record',
  name: 'Reply',
  namespace: ns,
  fields: [
    { name: 'id', type: 'long' },
    { name: 'code', type: { type: 'enum', name: 'ReplyCode', symbols: [...REPLY_CODES] } },
    { name: 'message', type: 'string', default: '' },
    { name: 'retryable', type: 'boolean', default: false },
    {
      name: 'redirect',
      type: [
        'null',
        {
          type: 'record',
          name: 'Redirect',
          fields: [
            { name: 'fork', type: 'string' },
            { name: 'owner', type: 'string' },
            { name: 'endpoint', type: 'string' },
            { name: 'epoch', type: 'long' },
          ],
        },
      ],
      default: null,
    },
    { name: 'body', type: 'bytes' },
  ],
});

/** Value kinds: 0 = missing, 1 = bytes, 2 = signed 64-bit counter (data = 8 bytes little-endian). */
export const VALUE_MISSING = 0;
export const VALUE_BYTES = 1;
export const VALUE_COUNTER = 2;
export interface WireValue {
  kind: number;
  data: Buffer;
}
const Value = { type: 'record', name: 'Value', fields: [{ name: 'kind', type: 'int' }, { name: 'data', type: 'bytes' }] };
const Keys = { type: 'record', name: 'Keys', fields: [{ name: 'keys', type: { type: 'array', items: 'bytes' } }] };
const Empty = { type: 'record', name: 'Empty', fields: [] };
const Count = { type: 'record', name: 'Count', fields: [{ name: 'count', type: 'long' }] };

function t(schema: unknown): avro.Type {
  // All command schemas share one registry so named types (Value, Keys...) are defined once.
  return avro.Type.forSchema(schema as avro.Schema, { registry });
}
const registry: Record<string, avro.Type> = {};

const ValueT = t({ ...Value, namespace: ns });
const KeysT = t({ ...Keys, namespace: ns });
const EmptyT = t({ ...Empty, namespace: ns });
const CountT = t({ ...Count, namespace: ns });

export const ForkEntryType = t({
  type: 'record',
  name: 'dbslm.store.ForkEntry',
  fields: [
    { name: 'fork', type: 'string' },
    { name: 'owner', type: 'string' },
    { name: 'epoch', type: 'long' },
  ],
});
export const ForkMapType = t({
  type: 'record',
  name: 'dbslm.store.ForkMap',
  fields: [
    { name: 'version', type: 'long' },
    { name: 'entries', type: { type: 'array', items: 'dbslm.store.ForkEntry' } },
  ],
});

/** One chunk of a fork's data, as exported by its owner and imported by its next owner. */
export interface ForkChunk {
  fork: string;
  entries: { key: Buffer; kind: number; data: Buffer }[];
  dedup: { producer: string; seq: number; anchor: Buffer }[];
  /** Cursor: the last key in `entries` (empty when the chunk holds no entries). */
  last: Buffer;
  done: boolean;
}
export const ForkChunkType = t({
  type: 'record',
  name: 'dbslm.store.ForkChunk',
  fields: [
    { name: 'fork', type: 'string' },
    {
      name: 'entries',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'dbslm.store.ChunkEntry',
          fields: [
            { name: 'key', type: 'bytes' },
            { name: 'kind', type: 'int' },
            { name: 'data', type: 'bytes' },
          ],
        },
      },
    },
    {
      name: 'dedup',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'dbslm.store.DedupRecord',
          fields: [
            { name: 'producer', type: 'string' },
            { name: 'seq', type: 'long' },
            { name: 'anchor', type: 'bytes' },
          ],
        },
      },
    },
    { name: 'last', type: 'bytes' },
    { name: 'done', type: 'boolean' },
  ],
});

export const OP_SET = 0;
export const OP_DELETE = 1;
export const OP_INCR = 2;
export interface BatchOp {
  op: number;
  key: Buffer;
  value: Buffer;
  delta: number;
}

const ns2 = (name: string) => `${ns}.${name}`;

/** Request and reply body types of every built-in command. */
export const COMMAND_TYPES: Record<string, { req: avro.Type; rep: avro.Type }> = {
  ping: { req: EmptyT, rep: t({ type: 'record', name: ns2('Pong'), fields: [{ name: 'id', type: 'string' }, { name: 'epoch', type: 'long' }] }) },
  get: { req: KeysT, rep: t({ type: 'record', name: ns2('Values'), fields: [{ name: 'values', type: { type: 'array', items: ValueT } }] }) },
  set: {
    req: t({
      type: 'record',
      name: ns2('SetReq'),
      fields: [{ name: 'entries', type: { type: 'array', items: { type: 'record', name: ns2('KV'), fields: [{ name: 'key', type: 'bytes' }, { name: 'value', type: 'bytes' }] } } }],
    }),
    rep: EmptyT,
  },
  delete: { req: KeysT, rep: CountT },
  incr: {
    req: t({
      type: 'record',
      name: ns2('IncrReq'),
      fields: [{ name: 'entries', type: { type: 'array', items: { type: 'record', name: ns2('KD'), fields: [{ name: 'key', type: 'bytes' }, { name: 'delta', type: 'long' }] } } }],
    }),
    rep: t({ type: 'record', name: ns2('Totals'), fields: [{ name: 'totals', type: { type: 'array', items: 'long' } }] }),
  },
  batch: {
    req: t({
      type: 'record',
      name: ns2('BatchReq'),
      fields: [
        { name: 'producer', type: 'string' },
        { name: 'seq', type: 'long' },
        // Every seq below `floor` is acknowledged to this producer and will never be resent,
        // so the actor may forget its dedup records.
        { name: 'floor', type: 'long' },
        {
          name: 'ops',
          type: {
            type: 'array',
            items: {
              type: 'record',
              name: ns2('Op'),
              fields: [
                { name: 'op', type: 'int' },
                { name: 'key', type: 'bytes' },
                { name: 'value', type: 'bytes' },
                { name: 'delta', type: 'long' },
              ],
            },
          },
        },
        // All-increment batches may come packed instead of as `ops` (one or the other, not both):
        // per increment u32le(len(key)) | key | i64le(delta); see store/packed_incrs.ts.
        { name: 'incrs', type: 'bytes', default: '' },
      ],
    }),
    rep: t({ type: 'record', name: ns2('BatchRep'), fields: [{ name: 'duplicate', type: 'boolean' }] }),
  },
  scan: {
    req: t({
      type: 'record',
      name: ns2('ScanReq'),
      fields: [
        { name: 'prefix', type: 'bytes' },
        { name: 'after', type: ['null', 'bytes'], default: null },
        { name: 'limit', type: 'int' },
        { name: 'keysOnly', type: 'boolean', default: false },
      ],
    }),
    rep: t({
      type: 'record',
      name: ns2('ScanRep'),
      fields: [
        { name: 'keys', type: { type: 'array', items: 'bytes' } },
        { name: 'values', type: { type: 'array', items: ValueT } },
        { name: 'next', type: ['null', 'bytes'], default: null },
      ],
    }),
  },
  reduce: {
    req: t({
      type: 'record',
      name: ns2('ReduceReq'),
      fields: [
        { name: 'name', type: 'string' },
        { name: 'prefix', type: 'bytes' },
        { name: 'args', type: 'bytes' },
      ],
    }),
    rep: t({ type: 'record', name: ns2('ReduceRep'), fields: [{ name: 'result', type: 'bytes' }] }),
  },
  summary: {
    req: t({ type: 'record', name: ns2('SummaryReq'), fields: [{ name: 'prefix', type: 'bytes' }, { name: 'depth', type: 'int' }] }),
    rep: t({
      type: 'record',
      name: ns2('SummaryRep'),
      fields: [
        { name: 'entries', type: 'long' },
        { name: 'bytes', type: 'long' },
        {
          name: 'branches',
          type: {
            type: 'array',
            items: {
              type: 'record',
              name: ns2('Branch'),
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
  },
  purge: { req: t({ type: 'record', name: ns2('PurgeReq'), fields: [{ name: 'prefix', type: 'bytes' }] }), rep: CountT },
  reset: { req: EmptyT, rep: CountT },
  stats: {
    req: EmptyT,
    rep: t({
      type: 'record',
      name: ns2('StatsRep'),
      fields: [
        { name: 'id', type: 'string' },
        { name: 'endpoint', type: 'string' },
        { name: 'epoch', type: 'long' },
        { name: 'durability', type: 'string' },
        { name: 'uptimeMs', type: 'long' },
        {
          name: 'forks',
          type: {
            type: 'array',
            items: {
              type: 'record',
              name: ns2('ForkStats'),
              fields: [
                { name: 'fork', type: 'string' },
                { name: 'epoch', type: 'long' },
                { name: 'keys', type: 'long' },
                { name: 'bytes', type: 'long' },
                { name: 'ops', type: 'long' },
                { name: 'opsPerSec', type: 'double' },
                { name: 'fenced', type: 'boolean' },
              ],
            },
          },
        },
      ],
    }),
  },
  checkpoint: {
    req: EmptyT,
    rep: t({ type: 'record', name: ns2('CheckpointRep'), fields: [{ name: 'busy', type: 'int' }, { name: 'log', type: 'int' }, { name: 'checkpointed', type: 'int' }] }),
  },
  map: {
    req: EmptyT,
    rep: t({
      type: 'record',
      name: ns2('MapRep'),
      fields: [
        { name: 'map', type: 'dbslm.store.ForkMap' },
        { name: 'members', type: { type: 'array', items: { type: 'record', name: ns2('Member'), fields: [{ name: 'id', type: 'string' }, { name: 'endpoint', type: 'string' }] } } },
      ],
    }),
  },
  'map-apply': {
    req: t({
      type: 'record',
      name: ns2('MapApplyReq'),
      fields: [
        { name: 'map', type: 'dbslm.store.ForkMap' },
        { name: 'members', type: { type: 'array', items: 'dbslm.store.Member' } },
      ],
    }),
    rep: t({ type: 'record', name: ns2('MapApplyRep'), fields: [{ name: 'version', type: 'long' }] }),
  },
  stop: { req: EmptyT, rep: EmptyT },
};

export type CommandName = keyof typeof COMMAND_TYPES;

export function encodeRequest(req: Request): Buffer {
  return RequestType.toBuffer(req);
}
export function encodeReply(rep: Reply): Buffer {
  return ReplyType.toBuffer(rep);
}
export function decodeReply(buf: Buffer): Reply {
  return ReplyType.fromBuffer(buf) as Reply;
}

/**
 * The Replies of one frame, which may hold several back to back (the actor bundles replies to
 * peers that bundle requests). Stops at the first undecodable byte: nothing after it can be
 * matched to a request.
 */
export function* repliesIn(frame: Buffer): Generator<Reply> {
  for (let pos = 0; pos < frame.length; ) {
    let r: { value: unknown; offset: number };
    try {
      r = ReplyType.decode(frame, pos);
    } catch {
      return;
    }
    if (r.offset < 0) return;
    pos = r.offset;
    yield r.value as Reply;
  }
}
