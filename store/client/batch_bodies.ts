// What a batch request carries: client ops as wire ops, and the encoded body of a batch, plain or
// with its increments and marks packed (store/protocol/packed_incrs.ts: far cheaper to encode and
// decode). Pure; the client (client.ts) routes and resends them.
import { OP_DELETE, OP_INCR, OP_MARK, OP_SET, type BatchOp } from '../../schemas/data.js';
import { STORE_COMMANDS } from '../../schemas/store.js';
import { packIncrs, packMarks, type PackedFork } from '../protocol/packed_incrs.js';

/** `mark`: create the key with the empty value unless it exists (OP_MARK). */
export type ClientOp = { op: 'set'; key: Buffer; value: Buffer } | { op: 'delete'; key: Buffer } | { op: 'incr'; key: Buffer; delta: number } | { op: 'mark'; key: Buffer };

const EMPTY = Buffer.alloc(0);

/** A batch request body; batches of increments and marks go packed (store/packed_incrs.ts: far cheaper to encode and decode). */
export function batchBody(producer: string, seq: number, floor: number, ops: BatchOp[]): Buffer {
  // (An unsafe delta goes unpacked so the actor names it in its BAD_REQUEST, as before.)
  if (!ops.every((o) => (o.op === OP_INCR && Number.isSafeInteger(o.delta)) || o.op === OP_MARK)) return STORE_COMMANDS.batch.encodeRequest({ producer, seq, floor, ops, incrs: EMPTY });
  const incrs = ops.filter((o) => o.op === OP_INCR);
  const marks = ops.filter((o) => o.op === OP_MARK).map((o) => o.key);
  return STORE_COMMANDS.batch.encodeRequest({ producer, seq, floor, ops: [], incrs: packIncrs(incrs.map((o) => o.key), incrs.map((o) => o.delta)), marks: packMarks(marks) });
}

export function packedBody(producer: string, seq: number, g: PackedFork): Buffer {
  return STORE_COMMANDS.batch.encodeRequest({ producer, seq, floor: 0, ops: [], incrs: g.incrs, marks: g.marks });
}

export function toBatchOp(o: ClientOp): BatchOp {
  switch (o.op) {
    case 'set':
      return { op: OP_SET, key: o.key, value: o.value, delta: 0 };
    case 'delete':
      return { op: OP_DELETE, key: o.key, value: EMPTY, delta: 0 };
    case 'incr':
      return { op: OP_INCR, key: o.key, value: EMPTY, delta: o.delta };
    case 'mark':
      return { op: OP_MARK, key: o.key, value: EMPTY, delta: 0 };
  }
}
