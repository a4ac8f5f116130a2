// Avro schemas of the cluster commands: SWIM gossip, live fork moves and ownership history (issue 3, cluster).
//
// They ride in the `body` of the store envelope (schemas/store.ts `Request`/`Reply`) and reach an actor on its one
// ROUTER endpoint, registered through the actor's command hook, so a peer learns of another only from `--join`.
import avro from 'avsc';

const ns = 'dbslm.cluster';
const registry: Record<string, avro.Type> = {};
function t(schema: unknown): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema, { registry });
}

const MemberUpdate = t({
  type: 'record',
  name: `${ns}.MemberUpdate`,
  fields: [
    { name: 'id', type: 'string' },
    { name: 'endpoint', type: 'string' },
    { name: 'incarnation', type: 'long' },
    { name: 'state', type: { type: 'enum', name: `${ns}.MemberState`, symbols: ['alive', 'suspect', 'dead', 'left'] } },
  ],
});
const ForkEntry = t({
  type: 'record',
  name: `${ns}.ForkEntry`,
  fields: [
    { name: 'fork', type: 'string' },
    { name: 'owner', type: 'string' },
    { name: 'epoch', type: 'long' },
  ],
});
const Empty = t({ type: 'record', name: `${ns}.Empty`, fields: [] });

export const GossipType = t({
  type: 'record',
  name: `${ns}.Gossip`,
  fields: [
    { name: 'kind', type: { type: 'enum', name: `${ns}.GossipKind`, symbols: ['PING', 'ACK', 'PING_REQ', 'JOIN', 'NONE'] } },
    { name: 'from', type: 'string' },
    { name: 'fromEndpoint', type: 'string' },
    { name: 'incarnation', type: 'long' },
    { name: 'seq', type: 'long' },
    { name: 'target', type: 'string' },
    { name: 'targetEndpoint', type: 'string' },
    { name: 'digest', type: 'string' },
    { name: 'updates', type: { type: 'array', items: MemberUpdate } },
    { name: 'forks', type: { type: 'array', items: ForkEntry } },
  ],
});

export interface MoveRequest { fork: string; to: string; force: boolean; hops: number }
export interface MoveReply { fork: string; from: string; to: string; epoch: number; keys: number; rounds: number; ms: number }
export interface MoveChunk { moveId: string; fork: string; source: string; chunk: Buffer }
export interface MoveCommit { moveId: string; fork: string; from: string; epoch: number }
export interface HistoryRow { fork: string; epoch: number; owner: string; atMs: number; reason: string }

/** Request and reply body types of every cluster command, keyed by command name. */
export const CLUSTER_COMMAND_TYPES: Record<string, { req: avro.Type; rep: avro.Type }> = {
  // One SWIM message each way: PING/PING_REQ/JOIN in, ACK (or NONE) out.
  gossip: { req: GossipType, rep: GossipType },
  // Operator entry point: any member forwards to the fork's owner, which runs the move.
  move: {
    req: t({ type: 'record', name: `${ns}.MoveReq`, fields: [{ name: 'fork', type: 'string' }, { name: 'to', type: 'string' }, { name: 'force', type: 'boolean', default: false }, { name: 'hops', type: 'int', default: 0 }] }),
    rep: t({
      type: 'record',
      name: `${ns}.MoveRep`,
      fields: [
        { name: 'fork', type: 'string' },
        { name: 'from', type: 'string' },
        { name: 'to', type: 'string' },
        { name: 'epoch', type: 'long' },
        { name: 'keys', type: 'long' },
        { name: 'rounds', type: 'int' },
        { name: 'ms', type: 'long' },
      ],
    }),
  },
  // Source to target: one chunk of snapshot or tail, `chunk` encoded with schemas/store.ts ForkChunkType.
  'move-chunk': {
    req: t({
      type: 'record',
      name: `${ns}.MoveChunk`,
      fields: [{ name: 'moveId', type: 'string' }, { name: 'fork', type: 'string' }, { name: 'source', type: 'string' }, { name: 'chunk', type: 'bytes' }],
    }),
    rep: Empty,
  },
  // Source to target after the fence: the target takes the fork at `epoch`.
  'move-commit': {
    req: t({
      type: 'record',
      name: `${ns}.MoveCommit`,
      fields: [{ name: 'moveId', type: 'string' }, { name: 'fork', type: 'string' }, { name: 'from', type: 'string' }, { name: 'epoch', type: 'long' }],
    }),
    rep: Empty,
  },
  'move-abort': {
    req: t({ type: 'record', name: `${ns}.MoveAbort`, fields: [{ name: 'moveId', type: 'string' }, { name: 'fork', type: 'string' }] }),
    rep: Empty,
  },
  // Forced takeover, phase one: a member merges the entries and from then on gossips them.
  'map-put': {
    req: t({ type: 'record', name: `${ns}.MapPut`, fields: [{ name: 'entries', type: { type: 'array', items: ForkEntry } }] }),
    rep: Empty,
  },
  history: {
    req: Empty,
    rep: t({
      type: 'record',
      name: `${ns}.History`,
      fields: [
        { name: 'id', type: 'string' },
        {
          name: 'rows',
          type: {
            type: 'array',
            items: {
              type: 'record',
              name: `${ns}.HistoryRow`,
              fields: [
                { name: 'fork', type: 'string' },
                { name: 'epoch', type: 'long' },
                { name: 'owner', type: 'string' },
                { name: 'atMs', type: 'long' },
                { name: 'reason', type: 'string' },
              ],
            },
          },
        },
      ],
    }),
  },
  members: {
    req: Empty,
    rep: t({
      type: 'record',
      name: `${ns}.Members`,
      fields: [
        { name: 'id', type: 'string' },
        { name: 'lease', type: 'boolean' },
        { name: 'deadAfterMs', type: 'long' },
        { name: 'members', type: { type: 'array', items: MemberUpdate } },
        { name: 'forks', type: { type: 'array', items: ForkEntry } },
      ],
    }),
  },
};

/** Decodes a cluster command body; undecodable input is the client's error, not the actor's. */
export function decodeBody<R>(cmd: string, body: Buffer, which: 'req' | 'rep' = 'req'): R {
  const types = CLUSTER_COMMAND_TYPES[cmd];
  if (!types) throw new Error(`no cluster command ${cmd}`);
  try {
    return types[which].fromBuffer(body) as R;
  } catch (err) {
    throw new BadBody(`${cmd} ${which === 'req' ? 'request' : 'reply'} body of ${body.length} bytes is not a ${(types[which] as { name?: string }).name ?? 'record'} (schemas/cluster.ts): ${(err as Error).message}`);
  }
}
export class BadBody extends Error {}
