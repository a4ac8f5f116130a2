// Point commands: get, set, delete, incr. Each key is routed (size, owner, fence) before anything is
// applied; the actor runs the writes under a savepoint, so a request with one bad key applies nothing.
import { STORE_COMMANDS } from '../../../schemas/store.js';
import { StoreError } from '../../protocol/errors.js';
import { formatKey } from '../../protocol/keys.js';
import { checkValueSize, storedToWire } from '../../protocol/values.js';
import type { CommandHandler } from '../command.js';
import { TypeMismatch } from '../fork_db.js';

export function checkDelta(delta: number): void {
  if (!Number.isSafeInteger(delta)) throw new StoreError('BAD_REQUEST', `increment ${delta} is not a safe integer`);
}

/** An increment of a key holding bytes is the sender's WRONG_TYPE; any other error stays as it is. */
export function asWrongType(err: unknown): unknown {
  return err instanceof TypeMismatch ? new StoreError('WRONG_TYPE', `incr: ${err.message}; delete it or use another key`) : err;
}

const SAFE_TOTAL = BigInt(Number.MAX_SAFE_INTEGER);

/** An incr reply carries totals as Avro longs, safe integers: a total beyond them fails the request (its savepoint undoes it). */
function checkReplyTotal(key: Buffer, total: bigint): void {
  if (total > SAFE_TOTAL || total < -SAFE_TOTAL) {
    throw new StoreError('TOO_LARGE', `incr: the total of ${formatKey(key)} would be ${total}, beyond ±(2^53-1), the range an incr reply carries; nothing was applied (batch increments have no reply total)`);
  }
}

export const get: CommandHandler = (body, { actor }) => {
  const { keys } = STORE_COMMANDS.get.decodeRequest(body);
  for (const key of keys) actor.ownership.route(key, false);
  return STORE_COMMANDS.get.encodeReply({ values: keys.map((key) => storedToWire(actor.db.get(key))) });
};

export const set: CommandHandler = (body, { actor }) => {
  const { entries } = STORE_COMMANDS.set.decodeRequest(body);
  for (const { key, value } of entries) {
    const { fork } = actor.ownership.route(key, true);
    checkValueSize(value, actor.maxValueBytes);
    actor.db.set(key, value);
    actor.changeLog.note(fork, key, value);
  }
  return STORE_COMMANDS.set.encodeReply({});
};

export const del: CommandHandler = (body, { actor }) => {
  const { keys } = STORE_COMMANDS.delete.decodeRequest(body);
  let count = 0;
  for (const key of keys) {
    const { fork } = actor.ownership.route(key, true);
    count += actor.db.delete(key);
    actor.changeLog.note(fork, key, undefined);
  }
  return STORE_COMMANDS.delete.encodeReply({ count });
};

export const incr: CommandHandler = (body, { actor }) => {
  const { entries } = STORE_COMMANDS.incr.decodeRequest(body);
  const totals: number[] = [];
  try {
    for (const { key, delta } of entries) {
      const { fork } = actor.ownership.route(key, true);
      checkDelta(delta);
      const total = actor.db.incrGet(key, delta);
      checkReplyTotal(key, total);
      actor.changeLog.note(fork, key, total);
      totals.push(Number(total));
    }
  } catch (err) {
    throw asWrongType(err);
  }
  return STORE_COMMANDS.incr.encodeReply({ totals });
};
