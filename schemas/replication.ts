// Bodies of the replication commands (issue 10, store/replication/): `repl-apply` carries an
// owner's committed changes of its forks to one replica member, numbered per fork by (term,
// sequence); `repl-snapshot` fills a replica that is new or lost its place from the owner's
// snapshot, after which the stream goes on from the snapshot's sequence. `repl-get` is a client's
// read served by an in-sync replica (`--read-from replica`), with how stale it may be.
import { avroType, command, EmptyType, type Empty } from './command.js';
import { ForkChunkType, type ForkChunk } from './fork_chunk.js';
import { WireValueType, type WireValue } from './values.js';

const name = (n: string) => `dbslm.replication.${n}`;

/** One commit's changes of one fork: sequence `seq` of the stream of the owner that got the fork at `term`. */
export interface ReplItem {
  fork: string;
  term: number;
  seq: number;
  /** On a promoted owner's first items: the last sequence it had applied as a replica (-1: none). */
  base: number;
  chunk: ForkChunk;
}
export interface ReplApplyRequest {
  owner: string;
  items: ReplItem[];
}
/** What the replica wants next for one fork: nothing, the tail from `from`, a snapshot, or nothing of this owner (a newer `term` owns it). */
export type ReplNeed = 'NONE' | 'TAIL' | 'SNAPSHOT' | 'REFUSED';
export interface ReplResult {
  fork: string;
  /** Every change up to this sequence is committed here. */
  acked: number;
  need: ReplNeed;
  from: number;
  term: number;
}
export interface ReplSnapshotRequest {
  owner: string;
  fork: string;
  term: number;
  /** The owner's sequence when the snapshot began: every change up to it is in the snapshot. */
  upTo: number;
  /** The first chunk: the replica drops what it held of the fork first. */
  first: boolean;
  chunk: ForkChunk;
}

/** (repl-status) How far one replica of one of the answering owner's forks is behind it. */
export interface ReplicaLag {
  fork: string;
  replica: string;
  /** Changes (commits of the fork) the owner has and the replica has not acknowledged. */
  behind: number;
  /** in-sync, dropping (asked out of the in-sync set), out, joining (counted again, not yet admitted). */
  state: string;
}

/** (repl-get) Keys of one fork, read from a replica of it. */
export interface ReplGetRequest {
  keys: Buffer[];
}
/** The values as the answering member holds them, and how stale they may be. */
export interface ReplGetReply {
  values: WireValue[];
  fork: string;
  /** The member that answered, and the fork's owner in its map (the same when the owner answered). */
  servedBy: string;
  owner: string;
  /** The place of the answering replica in the owner's stream: every change up to `applied` of the stream of `term`. */
  term: number;
  applied: number;
  /** Milliseconds since the answering replica last applied a change of the fork (or installed its snapshot); 0 from the owner. */
  sinceMs: number;
}

const ReplResultType = avroType({
  type: 'record',
  name: name('Result'),
  fields: [
    { name: 'fork', type: 'string' },
    { name: 'acked', type: 'long' },
    { name: 'need', type: { type: 'enum', name: name('Need'), symbols: ['NONE', 'TAIL', 'SNAPSHOT', 'REFUSED'] } },
    { name: 'from', type: 'long' },
    { name: 'term', type: 'long' },
  ],
});

export const REPLICATION_COMMANDS = {
  'repl-apply': command<ReplApplyRequest, { results: ReplResult[] }>(
    'repl-apply',
    avroType({
      type: 'record',
      name: name('Apply'),
      fields: [
        { name: 'owner', type: 'string' },
        {
          name: 'items',
          type: {
            type: 'array',
            items: {
              type: 'record',
              name: name('Item'),
              fields: [
                { name: 'fork', type: 'string' },
                { name: 'term', type: 'long' },
                { name: 'seq', type: 'long' },
                { name: 'base', type: 'long' },
                { name: 'chunk', type: ForkChunkType },
              ],
            },
          },
        },
      ],
    }),
    avroType({ type: 'record', name: name('ApplyReply'), fields: [{ name: 'results', type: { type: 'array', items: ReplResultType } }] }),
  ),
  // An owner's replicated forks with each replica's lag (`dbslm store status` asks every live member).
  'repl-status': command<Empty, { lags: ReplicaLag[] }>(
    'repl-status',
    EmptyType,
    avroType({
      type: 'record',
      name: name('StatusReply'),
      fields: [
        {
          name: 'lags',
          type: {
            type: 'array',
            items: {
              type: 'record',
              name: name('Lag'),
              fields: [
                { name: 'fork', type: 'string' },
                { name: 'replica', type: 'string' },
                { name: 'behind', type: 'long' },
                { name: 'state', type: 'string' },
              ],
            },
          },
        },
      ],
    }),
  ),
  'repl-get': command<ReplGetRequest, ReplGetReply>(
    'repl-get',
    avroType({ type: 'record', name: name('Get'), fields: [{ name: 'keys', type: { type: 'array', items: 'bytes' } }] }),
    avroType({
      type: 'record',
      name: name('GetReply'),
      fields: [
        { name: 'values', type: { type: 'array', items: WireValueType } },
        { name: 'fork', type: 'string' },
        { name: 'servedBy', type: 'string' },
        { name: 'owner', type: 'string' },
        { name: 'term', type: 'long' },
        { name: 'applied', type: 'long' },
        { name: 'sinceMs', type: 'long' },
      ],
    }),
  ),
  'repl-snapshot': command<ReplSnapshotRequest, ReplResult>(
    'repl-snapshot',
    avroType({
      type: 'record',
      name: name('Snapshot'),
      fields: [
        { name: 'owner', type: 'string' },
        { name: 'fork', type: 'string' },
        { name: 'term', type: 'long' },
        { name: 'upTo', type: 'long' },
        { name: 'first', type: 'boolean' },
        { name: 'chunk', type: ForkChunkType },
      ],
    }),
    ReplResultType,
  ),
};
