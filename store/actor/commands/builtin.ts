// The built-in command handlers of a store actor. Each decodes its body with the types of
// schemas/data.ts and schemas/admin.ts, checks every key's fork through `actor.route` (redirect / fence / size), and
// returns its encoded reply body. Write handlers are synchronous: the actor runs them inside the
// group transaction under a savepoint, so a request either applies fully or not at all.
import { OP_DELETE, OP_INCR, OP_SET, type BatchOp } from '../../../schemas/data.js';
import { STORE_COMMANDS } from '../../../schemas/store.js';
import type { ForkEntry } from '../../../schemas/fork_map.js';
import { ForkMap } from '../../map/fork_map.js';
import { TypeMismatch } from '../fork_db.js';
import { getReducer, reducerNames, type Row } from '../reducers.js';
import { storedToWire } from '../../protocol/values.js';
import { StoreError } from '../../protocol/errors.js';
import { DEFERRED_REPLY } from '../incr_queue.js';
import { unpackIncrs } from '../../protocol/packed_incrs.js';
import type { CommandHandler, RequestContext, StoreActor } from '../actor.js';


function checkValue(actor: StoreActor, v: Buffer): void {
  if (v.length > actor.maxValueBytes) throw new StoreError('TOO_LARGE', `value of ${v.length} bytes exceeds the ${actor.maxValueBytes}-byte limit`);
}
function checkDelta(d: number): void {
  if (!Number.isSafeInteger(d)) throw new StoreError('BAD_REQUEST', `increment ${d} is not a safe integer`);
}
function typeError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof TypeMismatch) throw new StoreError('WRONG_TYPE', `incr: ${err.message}; delete it or use another key`);
    throw err;
  }
}

/** The single owned fork holding all keys under `prefix` (empty prefix: not allowed here). */
function prefixFork(actor: StoreActor, prefix: Buffer, cmd: string, write: boolean): ForkEntry {
  if (prefix.length > actor.maxKeyBytes) throw new StoreError('TOO_LARGE', `${cmd} prefix of ${prefix.length} bytes exceeds the key limit`);
  const e = actor.map.forkOfPrefix(prefix);
  if (!e) throw new StoreError('CROSS_FORK', `${cmd} prefix 0x${prefix.toString('hex')} spans ${actor.map.forksUnder(prefix).length} forks; send one ${cmd} per fork (prefix = fork bytes)`);
  return actor.checkOwner(e, write);
}

function ownedForks(actor: StoreActor): ForkEntry[] {
  return actor.map.forksOf(actor.id).sort((a, b) => (a.fork < b.fork ? -1 : 1));
}

function* rowsOfOwned(actor: StoreActor, prefix: Buffer): Generator<Row> {
  if (prefix.length) yield* actor.db.iterate(prefix);
  else for (const f of ownedForks(actor)) yield* actor.db.iterate(Buffer.from(f.fork, 'hex'));
}

const EMPTY = Buffer.alloc(0);

const set: CommandHandler = (body, { actor }) => {
  const { entries } = STORE_COMMANDS.set.decodeRequest(body);
  for (const { key, value } of entries) {
    const f = actor.route(key, true);
    checkValue(actor, value);
    actor.db.set(key, value);
    actor.noteChange(f.fork, key, value);
  }
  return STORE_COMMANDS.set.encodeReply({});
};

const del: CommandHandler = (body, { actor }) => {
  const { keys } = STORE_COMMANDS.delete.decodeRequest(body);
  let count = 0;
  for (const key of keys) {
    const f = actor.route(key, true);
    count += actor.db.delete(key);
    actor.noteChange(f.fork, key, undefined);
  }
  return STORE_COMMANDS.delete.encodeReply({ count });
};

const incr: CommandHandler = (body, { actor }) => {
  const { entries } = STORE_COMMANDS.incr.decodeRequest(body);
  const totals: number[] = [];
  for (const { key, delta } of entries) {
    const f = actor.route(key, true);
    checkDelta(delta);
    const total = typeError(() => actor.db.incrGet(key, delta));
    actor.noteChange(f.fork, key, total);
    totals.push(Number(total));
  }
  return STORE_COMMANDS.incr.encodeReply({ totals });
};

function checkIncr(actor: StoreActor, f: ForkEntry, key: Buffer, delta: number): void {
  if (key.length < 4 || actor.map.lookup(key).fork !== f.fork) crossFork(actor, f, key);
  if (key.length > actor.maxKeyBytes) throw new StoreError('TOO_LARGE', `key of ${key.length} bytes exceeds the ${actor.maxKeyBytes}-byte limit`);
  checkDelta(delta);
}

function crossFork(actor: StoreActor, f: ForkEntry, key: Buffer): never {
  actor.route(key, true); // redirect/size errors first, then the cross-fork refusal
  throw new StoreError('CROSS_FORK', `batch spans forks ${f.fork} and ${actor.map.lookup(key).fork}; a batch is atomic within one fork only`);
}

/** Producer floors already pruned, so the dedup table is trimmed every 256 seqs, not per batch. */
const prunedFloor = new Map<string, number>();
function pruneDedup(actor: StoreActor, producer: string, floor: number): void {
  if (floor - (prunedFloor.get(producer) ?? 0) < 256) return;
  actor.db.dedupPrune(producer, floor);
  prunedFloor.set(producer, floor);
}

const batch: CommandHandler = (body, ctx) => {
  const { actor } = ctx;
  const b = STORE_COMMANDS.batch.decodeRequest(body);
  if (!b.producer) throw new StoreError('BAD_REQUEST', 'batch needs a producer id (any string unique to the producing process)');
  if (b.incrs.length && b.ops.length) throw new StoreError('BAD_REQUEST', 'batch carries both ops and packed incrs; send one or the other');
  const packed = b.incrs.length ? unpackIncrs(b.incrs) : null;
  const n = packed ? packed.keys.length : b.ops.length;
  if (!n) return STORE_COMMANDS.batch.encodeReply({ duplicate: false });
  const anchorKey = packed ? packed.keys[0]! : b.ops[0]!.key;
  const f = actor.route(anchorKey, true);
  const settle = (err: unknown) => actor.settle(ctx, err instanceof TypeMismatch ? new StoreError('WRONG_TYPE', `incr: ${err.message}; delete it or use another key`) : err, STORE_COMMANDS.batch.encodeReply({ duplicate: false }));
  const queued = actor.incrQueue.get(b.producer, b.seq);
  if (queued) {
    // Redelivered while the first copy waits in the queue: answer with the first copy's outcome.
    queued.done.push((err) => (err ? settle(err) : actor.settle(ctx, null, STORE_COMMANDS.batch.encodeReply({ duplicate: true }))));
    return DEFERRED_REPLY;
  }
  if (actor.db.dedupSeen(b.producer, b.seq)) return STORE_COMMANDS.batch.encodeReply({ duplicate: true });
  const watched = actor.isWatched(f.fork);
  const anchor = anchorKey.subarray(0, 4);
  actor.addTxnOps(n - 1);
  actor.ops.set(f.fork, (actor.ops.get(f.fork) ?? 0) + n - 1);
  pruneDedup(actor, b.producer, b.floor);
  if (!watched && (packed || b.ops.every((op) => op.op === OP_INCR))) {
    const keys = packed ? packed.keys : b.ops.map((op) => op.key);
    const deltas = packed ? packed.deltas : b.ops.map((op) => op.delta);
    for (let i = 0; i < n; i++) checkIncr(actor, f, keys[i]!, deltas[i]!);
    actor.incrQueue.add({ producer: b.producer, seq: b.seq, anchor, keys, deltas, done: [settle] });
    return DEFERRED_REPLY;
  }
  const ops = packed ? packed.keys.map((key, i) => ({ op: OP_INCR, key, value: EMPTY, delta: packed.deltas[i]! })) : b.ops;
  actor.incrQueue.flush(); // keep arrival order with the increments queued before this batch
  actor.atomicWrite(() => applyOps(actor, f, watched, { producer: b.producer, seq: b.seq, ops }, anchor));
  return STORE_COMMANDS.batch.encodeReply({ duplicate: false });
};

function applyOps(actor: StoreActor, f: ForkEntry, watched: boolean, b: { producer: string; seq: number; ops: BatchOp[] }, anchor: Buffer): void {
  for (const op of b.ops) {
    if (op.key.length < 4 || actor.map.lookup(op.key).fork !== f.fork) crossFork(actor, f, op.key);
    if (op.key.length > actor.maxKeyBytes) throw new StoreError('TOO_LARGE', `key of ${op.key.length} bytes exceeds the ${actor.maxKeyBytes}-byte limit`);
    if (op.op === OP_INCR) {
      checkDelta(op.delta);
      if (watched) actor.noteChange(f.fork, op.key, typeError(() => actor.db.incrGet(op.key, op.delta)));
      else typeError(() => actor.db.incr(op.key, op.delta));
    } else if (op.op === OP_SET) {
      checkValue(actor, op.value);
      actor.db.set(op.key, op.value);
      actor.noteChange(f.fork, op.key, op.value);
    } else if (op.op === OP_DELETE) {
      actor.db.delete(op.key);
      actor.noteChange(f.fork, op.key, undefined);
    } else throw new StoreError('BAD_REQUEST', `batch op ${op.op} is not 0 (set), 1 (delete) or 2 (incr)`);
  }
  actor.db.dedupRecord(b.producer, b.seq, anchor);
  actor.noteDedup(f.fork, b.producer, b.seq, anchor);
}

const get: CommandHandler = (body, { actor }) => {
  const { keys } = STORE_COMMANDS.get.decodeRequest(body);
  for (const k of keys) actor.route(k, false);
  return STORE_COMMANDS.get.encodeReply({ values: keys.map((k) => storedToWire(actor.db.get(k))) });
};

const MAX_SCAN = 10000;
const scan: CommandHandler = (body, { actor }) => {
  const s = STORE_COMMANDS.scan.decodeRequest(body);
  prefixFork(actor, s.prefix, 'scan', false);
  const limit = Math.max(1, Math.min(MAX_SCAN, s.limit || MAX_SCAN));
  const rows = actor.db.scan(s.prefix, s.after, limit);
  return STORE_COMMANDS.scan.encodeReply({
    keys: rows.map((r) => r.key),
    values: s.keysOnly ? [] : rows.map((r) => storedToWire(r.value)),
    next: rows.length === limit ? rows[rows.length - 1]!.key : null,
  });
};

const reduce: CommandHandler = (body, { actor }) => {
  const r = STORE_COMMANDS.reduce.decodeRequest(body);
  const red = getReducer(r.name);
  if (!red) throw new StoreError('UNKNOWN_COMMAND', `no reducer ${JSON.stringify(r.name)}; registered: ${reducerNames().join(', ')}`);
  if (r.prefix.length) prefixFork(actor, r.prefix, 'reduce', false);
  const rows = rowsOfOwned(actor, r.prefix);
  try {
    return STORE_COMMANDS.reduce.encodeReply({ result: red.run(rows, r.args) });
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new StoreError('BAD_REQUEST', `reducer ${r.name} failed: ${(err as Error).message}`);
  }
};

const summary: CommandHandler = (body, { actor }) => {
  const s = STORE_COMMANDS.summary.decodeRequest(body);
  if (s.depth < 0 || s.depth > 64) throw new StoreError('BAD_REQUEST', `summary depth ${s.depth} must be 0..64`);
  const width = s.prefix.length + s.depth;
  const ranges = s.prefix.length ? (prefixFork(actor, s.prefix, 'summary', false), [s.prefix]) : ownedForks(actor).map((f) => Buffer.from(f.fork, 'hex'));
  const merged = new Map<string, { branch: Buffer; entries: number; bytes: number }>();
  let entries = 0;
  let bytes = 0;
  for (const p of ranges) {
    for (const b of actor.db.branches(p, Math.max(width, 1))) {
      entries += b.entries;
      bytes += b.bytes;
      if (!s.depth) continue;
      const key = b.branch.subarray(0, width).toString('hex');
      const m = merged.get(key);
      if (m) {
        m.entries += b.entries;
        m.bytes += b.bytes;
      } else merged.set(key, { branch: b.branch.subarray(0, width), entries: b.entries, bytes: b.bytes });
    }
  }
  return STORE_COMMANDS.summary.encodeReply({ entries, bytes, branches: [...merged.values()] });
};

const purge: CommandHandler = (body, { actor }) => {
  const { prefix } = STORE_COMMANDS.purge.decodeRequest(body);
  if (!prefix.length) throw new StoreError('BAD_REQUEST', 'purge needs a non-empty prefix; use reset to clear every fork this actor owns');
  const f = prefixFork(actor, prefix, 'purge', true);
  if (actor.isWatched(f.fork)) for (const r of actor.db.iterate(prefix)) actor.noteChange(f.fork, r.key, undefined);
  return STORE_COMMANDS.purge.encodeReply({ count: actor.db.purge(prefix, prefix.length <= 4 && prefix.toString('hex') === f.fork) });
};

const reset: CommandHandler = (_body, { actor }) => {
  let count = 0;
  for (const f of ownedForks(actor)) {
    actor.checkOwner(f, true);
    const prefix = Buffer.from(f.fork, 'hex');
    if (actor.isWatched(f.fork)) for (const r of actor.db.iterate(prefix)) actor.noteChange(f.fork, r.key, undefined);
    count += actor.db.purge(prefix, true);
  }
  return STORE_COMMANDS.reset.encodeReply({ count });
};

const stats: CommandHandler = (_body, { actor }) => {
  const forks = ownedForks(actor).map((f) => ({
    fork: f.fork,
    epoch: f.epoch,
    ...actor.db.size(Buffer.from(f.fork, 'hex')),
    ops: actor.ops.get(f.fork) ?? 0,
    opsPerSec: actor.opsPerSec.get(f.fork) ?? 0,
    fenced: actor.isFenced(f.fork),
  }));
  return STORE_COMMANDS.stats.encodeReply({ id: actor.id, endpoint: actor.endpoint, epoch: actor.map.version, durability: actor.db.durability, uptimeMs: Date.now() - actor.startedAt, forks });
};

const checkpoint: CommandHandler = (_body, { actor }) => {
  actor.commit();
  return STORE_COMMANDS.checkpoint.encodeReply(actor.db.checkpoint());
};

const members = (actor: StoreActor) => [...actor.members].map(([id, endpoint]) => ({ id, endpoint }));

const map: CommandHandler = (_body, { actor }) => STORE_COMMANDS.map.encodeReply({ map: actor.map.toJSON(), members: members(actor) });

const mapApply: CommandHandler = (body, { actor }) => {
  const r = STORE_COMMANDS['map-apply'].decodeRequest(body);
  let m: ForkMap;
  try {
    m = ForkMap.fromEntries(r.map.entries);
  } catch (err) {
    throw new StoreError('BAD_REQUEST', `map-apply: ${(err as Error).message}`);
  }
  actor.applyMap(m, r.members.map((x) => [x.id, x.endpoint] as [string, string]));
  return STORE_COMMANDS['map-apply'].encodeReply({ version: actor.map.version });
};

const ping: CommandHandler = (_body, { actor }) => STORE_COMMANDS.ping.encodeReply({ id: actor.id, epoch: actor.map.version });

const stop: CommandHandler = (_body, ctx: RequestContext) => {
  // Reply first, then stop: the reply is queued before the socket closes.
  setTimeout(() => void ctx.actor.stop().then(() => ctx.actor.onStopped?.()), 20);
  return STORE_COMMANDS.stop.encodeReply({});
};

export const builtinCommands: Record<string, { handler: CommandHandler; write: boolean; selfAtomic?: boolean }> = {
  ping: { handler: ping, write: false },
  get: { handler: get, write: false },
  set: { handler: set, write: true },
  delete: { handler: del, write: true },
  incr: { handler: incr, write: true },
  batch: { handler: batch, write: true, selfAtomic: true },
  scan: { handler: scan, write: false },
  reduce: { handler: reduce, write: false },
  summary: { handler: summary, write: false },
  purge: { handler: purge, write: true },
  reset: { handler: reset, write: true },
  stats: { handler: stats, write: false },
  checkpoint: { handler: checkpoint, write: false },
  map: { handler: map, write: false },
  'map-apply': { handler: mapApply, write: false },
  stop: { handler: stop, write: false },
};
