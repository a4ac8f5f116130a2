// Bodies of the fork-move commands. `move` is the operator's entry point (any member forwards it
// to the actor that acts); `move-chunk`, `move-verify`, `move-cutover` and `move-abort` pass
// between the source and the target of one move; `map-put` pushes new entries to every member.
// `takeover` (the operator's, to any member) takes every fork of a dead member over, handing each
// live member its share as one `takeover-forks`.
import { avroType, command, EmptyType, type Empty } from './command.js';
import { ForkChunkType, type ForkChunk } from './fork_chunk.js';
import { ForkEntryType, type ForkEntry } from './fork_map.js';

const name = (n: string) => `dbslm.cluster.${n}`;

export interface MoveRequest {
  fork: string;
  to: string;
  /** Take the fork over from a dead owner, with no data. */
  force: boolean;
  /** How often the request was forwarded already (members with stale maps may disagree on the owner). */
  hops: number;
  /** (issue 10) The member whose copy moves: a replica of the fork moves from it to `to`; empty or the owner: the owner's copy. */
  from?: string;
}
export interface MoveReply {
  fork: string;
  from: string;
  to: string;
  epoch: number;
  keys: number;
  /** Tail rounds, the last (fenced) one included. */
  rounds: number;
  ms: number;
}
/** One message of snapshot or tail: the `seq`-th of move `moveId` (0, 1, 2, ... with no gaps). */
export interface MoveChunk {
  moveId: string;
  fork: string;
  source: string;
  seq: number;
  chunk: ForkChunk;
}
/** Before the cut-over: the source's row count and digest of the fork (store/cluster/moves/digest.ts). */
export interface MoveVerify {
  moveId: string;
  fork: string;
  rows: number;
  digest: string;
  /** (issue 10) A handover to an in-sync replica: no chunks were sent, the target compares the rows it holds as replica. */
  handover?: boolean;
}
/** The target's own count and digest of what it imported. */
export interface MoveVerifyReply {
  rows: number;
  digest: string;
}
/** The cut-over: the target takes the fork at `epoch`. */
export interface MoveCutOver {
  moveId: string;
  fork: string;
  from: string;
  epoch: number;
  /** (issue 10) A handover: the target takes the fork with these replicas and in-sync set (the source among them). */
  handover?: boolean;
  replicas?: string[];
  inSync?: string[];
}
/** The source gives the move up: the target drops what it imported and refuses a late cut-over of it. */
export interface MoveAbort {
  moveId: string;
  fork: string;
}

/** Take every fork of the dead (or forgotten) `member` over, spread over the live members, or over `to` if given. */
export interface TakeoverRequest {
  member: string;
  to: string[];
}
/** What became of one fork of a takeover: `code` 'OK' (taken at `epoch`) or the error's code, with its message. */
export interface TakeoverResult {
  fork: string;
  from: string;
  to: string;
  epoch: number;
  code: string;
  message: string;
}
export interface TakeoverReply {
  member: string;
  results: TakeoverResult[];
  ms: number;
}
/** Take these forks over here, together (one quorum round, one lease wait). */
export interface TakeoverForksRequest {
  forks: string[];
}

/** (issue 10) Set on the requests of a handover, a move onto an in-sync replica (store/cluster/moves/handover.ts). */
const HANDOVER_FIELD = { name: 'handover', type: 'boolean', default: false };

const TakeoverResultsType = {
  type: 'array',
  items: {
    type: 'record',
    name: name('TakeoverResult'),
    fields: [
      { name: 'fork', type: 'string' },
      { name: 'from', type: 'string' },
      { name: 'to', type: 'string' },
      { name: 'epoch', type: 'long' },
      { name: 'code', type: 'string' },
      { name: 'message', type: 'string' },
    ],
  },
};

export const MOVE_COMMANDS = {
  move: command<MoveRequest, MoveReply>(
    'move',
    avroType({
      type: 'record',
      name: name('MoveRequest'),
      fields: [
        { name: 'fork', type: 'string' },
        { name: 'to', type: 'string' },
        { name: 'force', type: 'boolean', default: false },
        { name: 'hops', type: 'int', default: 0 },
        { name: 'from', type: 'string', default: '' },
      ],
    }),
    avroType({
      type: 'record',
      name: name('MoveReply'),
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
  ),
  'move-chunk': command<MoveChunk, Empty>(
    'move-chunk',
    avroType({
      type: 'record',
      name: name('MoveChunk'),
      fields: [
        { name: 'moveId', type: 'string' },
        { name: 'fork', type: 'string' },
        { name: 'source', type: 'string' },
        { name: 'seq', type: 'long' },
        { name: 'chunk', type: ForkChunkType },
      ],
    }),
    EmptyType,
  ),
  'move-verify': command<MoveVerify, MoveVerifyReply>(
    'move-verify',
    avroType({
      type: 'record',
      name: name('MoveVerify'),
      fields: [{ name: 'moveId', type: 'string' }, { name: 'fork', type: 'string' }, { name: 'rows', type: 'long' }, { name: 'digest', type: 'string' }, HANDOVER_FIELD],
    }),
    avroType({ type: 'record', name: name('MoveVerifyReply'), fields: [{ name: 'rows', type: 'long' }, { name: 'digest', type: 'string' }] }),
  ),
  'move-cutover': command<MoveCutOver, Empty>(
    'move-cutover',
    avroType({
      type: 'record',
      name: name('MoveCutOver'),
      fields: [
        { name: 'moveId', type: 'string' },
        { name: 'fork', type: 'string' },
        { name: 'from', type: 'string' },
        { name: 'epoch', type: 'long' },
        HANDOVER_FIELD,
        { name: 'replicas', type: { type: 'array', items: 'string' }, default: [] },
        { name: 'inSync', type: { type: 'array', items: 'string' }, default: [] },
      ],
    }),
    EmptyType,
  ),
  'move-abort': command<MoveAbort, Empty>(
    'move-abort',
    avroType({ type: 'record', name: name('MoveAbort'), fields: [{ name: 'moveId', type: 'string' }, { name: 'fork', type: 'string' }] }),
    EmptyType,
  ),
  takeover: command<TakeoverRequest, TakeoverReply>(
    'takeover',
    avroType({ type: 'record', name: name('TakeoverRequest'), fields: [{ name: 'member', type: 'string' }, { name: 'to', type: { type: 'array', items: 'string' }, default: [] }] }),
    avroType({ type: 'record', name: name('TakeoverReply'), fields: [{ name: 'member', type: 'string' }, { name: 'results', type: TakeoverResultsType }, { name: 'ms', type: 'long' }] }),
  ),
  'takeover-forks': command<TakeoverForksRequest, { results: TakeoverResult[] }>(
    'takeover-forks',
    avroType({ type: 'record', name: name('TakeoverForksRequest'), fields: [{ name: 'forks', type: { type: 'array', items: 'string' } }] }),
    avroType({ type: 'record', name: name('TakeoverForksReply'), fields: [{ name: 'results', type: { type: 'array', items: name('TakeoverResult') } }] }),
  ),
  // Pushed to every member at a cut-over or a takeover: merge these entries (newest epoch wins).
  'map-put': command<{ entries: ForkEntry[] }, Empty>(
    'map-put',
    avroType({ type: 'record', name: name('MapPut'), fields: [{ name: 'entries', type: { type: 'array', items: ForkEntryType } }] }),
    EmptyType,
  ),
};
