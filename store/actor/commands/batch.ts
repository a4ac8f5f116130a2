// The exactly-once batch: (producer, seq) is applied at most once, also when redelivered after a
// timeout, a crash or a fork move (the dedup record moves with the fork). A batch is atomic and
// lies in one fork. Batches of increments and marks only are validated here and queued
// (incr_queue.ts: applied in key order before anything else touches the database, noting the
// totals of watched forks); any other batch is applied at once, under its own savepoint.
import { OP_DELETE, OP_INCR, OP_MARK, OP_SET, type BatchOp } from '../../../schemas/data.js';
import type { ForkEntry } from '../../../schemas/fork_map.js';
import { STORE_COMMANDS } from '../../../schemas/store.js';
import { StoreError } from '../../protocol/errors.js';
import { ROUTING_BYTES } from '../../protocol/keys.js';
import { unpackIncrs, unpackMarks } from '../../protocol/packed_incrs.js';
import { checkValueSize } from '../../protocol/values.js';
import { DEFERRED, type ActorServices, type CommandHandler, type CommandSpec } from '../command.js';
import type { ForkDb } from '../fork_db.js';
import { asWrongType, checkDelta } from './kv.js';

/** A producer's dedup rows are pruned once its floor moved this many seqs, not on every batch. */
const PRUNE_EVERY_SEQS = 256;

const EMPTY = Buffer.alloc(0);
const APPLIED = STORE_COMMANDS.batch.encodeReply({ duplicate: false });
const DUPLICATE = STORE_COMMANDS.batch.encodeReply({ duplicate: true });

/** The batch command of one actor, with that actor's record of the floor each producer's dedup rows were pruned to. */
export function batchCommand(): CommandSpec {
  const prunedFloor = new Map<string, number>();
  const pruneDedup = (db: ForkDb, producer: string, floor: number) => {
    if (floor - (prunedFloor.get(producer) ?? 0) < PRUNE_EVERY_SEQS) return;
    db.dedupPrune(producer, floor);
    prunedFloor.set(producer, floor);
  };

  const batch: CommandHandler = (body, ctx) => {
    const { actor } = ctx;
    const request = STORE_COMMANDS.batch.decodeRequest(body);
    if (!request.producer) throw new StoreError('BAD_REQUEST', 'batch needs a producer id (any string unique to the producing process)');
    const marksBytes = request.marks ?? EMPTY;
    if ((request.incrs.length || marksBytes.length) && request.ops.length) throw new StoreError('BAD_REQUEST', 'batch carries both ops and packed incrs or marks; send one or the other');
    const packed = request.incrs.length || marksBytes.length ? { ...unpackIncrs(request.incrs), marks: unpackMarks(marksBytes) } : null;
    const n = packed ? packed.keys.length + packed.marks.length : request.ops.length;
    if (!n) return APPLIED;
    const anchorKey = packed ? (packed.keys[0] ?? packed.marks[0]!) : request.ops[0]!.key;
    const fork = actor.ownership.route(anchorKey, true);
    const queued = actor.incrQueue.get(request.producer, request.seq);
    if (queued) {
      // Redelivered while the first copy waits in the queue: answer with the first copy's outcome.
      queued.done.push((err) => actor.replyDeferred(ctx, asWrongType(err), DUPLICATE));
      return DEFERRED;
    }
    if (actor.db.dedupSeen(request.producer, request.seq)) return DUPLICATE;
    const anchor = anchorKey.subarray(0, ROUTING_BYTES);
    actor.group.addRows(n - 1);
    actor.rates.count(fork.fork, n - 1);
    pruneDedup(actor.db, request.producer, request.floor);
    if (packed || request.ops.every((op) => op.op === OP_INCR || op.op === OP_MARK)) {
      const keys = packed ? packed.keys : request.ops.filter((op) => op.op === OP_INCR).map((op) => op.key);
      const deltas = packed ? packed.deltas : request.ops.filter((op) => op.op === OP_INCR).map((op) => op.delta);
      const marks = packed ? packed.marks : request.ops.filter((op) => op.op === OP_MARK).map((op) => op.key);
      for (let i = 0; i < keys.length; i++) {
        actor.ownership.checkSameFork(fork, keys[i]!);
        checkDelta(deltas[i]!);
      }
      for (const key of marks) actor.ownership.checkSameFork(fork, key);
      actor.incrQueue.add({ producer: request.producer, seq: request.seq, fork: fork.fork, anchor, keys, deltas, marks, done: [(err) => actor.replyDeferred(ctx, asWrongType(err), APPLIED)] });
      return DEFERRED;
    }
    actor.incrQueue.flush(); // keep arrival order with the increments queued before this batch
    const watched = actor.changeLog.isWatched(fork.fork);
    actor.group.atomic(() => applyOps(actor, fork, watched, request.producer, request.seq, request.ops, anchor));
    return APPLIED;
  };
  return { handler: batch, write: true, selfAtomic: true };
}

/**
 * Sets only (what the smoothing writes: n-gram values, Top-K heads, context statistics), each key
 * checked to lie in `fork`, applied with multi-row statements. The caller holds the savepoint.
 */
export function applySets(actor: ActorServices, fork: ForkEntry, keys: readonly Buffer[], values: readonly Buffer[]): void {
  for (let i = 0; i < keys.length; i++) {
    actor.ownership.checkSameFork(fork, keys[i]!);
    checkValueSize(values[i]!, actor.maxValueBytes);
  }
  actor.db.setMany(keys, values);
  if (actor.changeLog.isWatched(fork.fork)) for (let i = 0; i < keys.length; i++) actor.changeLog.note(fork.fork, keys[i]!, values[i]!);
}

function applyOps(actor: ActorServices, fork: ForkEntry, watched: boolean, producer: string, seq: number, ops: BatchOp[], anchor: Buffer): void {
  const { db, changeLog } = actor;
  try {
    if (ops.every((op) => op.op === OP_SET)) applySets(actor, fork, ops.map((op) => op.key), ops.map((op) => op.value));
    else for (const op of ops) {
      actor.ownership.checkSameFork(fork, op.key);
      if (op.op === OP_INCR) {
        checkDelta(op.delta);
        if (watched) changeLog.note(fork.fork, op.key, db.incrGet(op.key, op.delta));
        else db.incr(op.key, op.delta);
      } else if (op.op === OP_SET) {
        checkValueSize(op.value, actor.maxValueBytes);
        db.set(op.key, op.value);
        changeLog.note(fork.fork, op.key, op.value);
      } else if (op.op === OP_MARK) {
        if (db.mark(op.key)) changeLog.note(fork.fork, op.key, EMPTY);
      } else if (op.op === OP_DELETE) {
        db.delete(op.key);
        changeLog.note(fork.fork, op.key, undefined);
      } else throw new StoreError('BAD_REQUEST', `batch op ${op.op} is not 0 (set), 1 (delete), 2 (incr) or 3 (mark)`);
    }
  } catch (err) {
    throw asWrongType(err);
  }
  db.dedupRecord(producer, seq, anchor);
  changeLog.noteDedup(fork.fork, producer, seq, anchor);
}
