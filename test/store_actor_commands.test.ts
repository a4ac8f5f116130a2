// The built-in command handlers, driven through the real dispatch of a StoreActor in this process
// (real ROUTER, real SQLite file): point commands, exactly-once batches, scan paging, reducers,
// summary, purge and reset.
import test from 'ava';
import { OP_INCR, OP_SET, type BatchOp } from '../schemas/data.js';
import type { Reply } from '../schemas/envelope.js';
import { STORE_COMMANDS } from '../schemas/store.js';
import { CountResult, SumResult, type SumValue } from '../store/actor/reducers.js';
import { makeKey, rangePrefix } from '../store/protocol/keys.js';
import { packIncrs } from '../store/protocol/packed_incrs.js';
import { RawPeer, startActor } from './helpers/actor_in_process.js';

const C = STORE_COMMANDS;
const EMPTY = Buffer.alloc(0);
const key = (ctx: string, rest = '') => makeKey('t', Buffer.from(ctx), Buffer.from(rest));
const incrOp = (k: Buffer, delta: number): BatchOp => ({ op: OP_INCR, key: k, value: EMPTY, delta });
const setOp = (k: Buffer, value: string): BatchOp => ({ op: OP_SET, key: k, value: Buffer.from(value), delta: 0 });
const batch = (producer: string, seq: number, ops: BatchOp[], floor = 0) => ({ cmd: 'batch', body: C.batch.encodeRequest({ producer, seq, floor, ops, incrs: EMPTY }) });
const get = (...keys: Buffer[]) => ({ cmd: 'get', body: C.get.encodeRequest({ keys }) });

function ok(t: { is: (a: unknown, b: unknown, m?: string) => void }, reply: Reply): Buffer {
  t.is(reply.code, 'OK', reply.message);
  return reply.body;
}
/** The value of each key as the test reads it: undefined, a string of bytes, or a bigint counter. */
function values(body: Buffer): (string | bigint | undefined)[] {
  return C.get.decodeReply(body).values.map((v) => (v.kind === 0 ? undefined : v.kind === 1 ? v.data.toString() : v.data.readBigInt64LE(0)));
}
const duplicate = (body: Buffer) => C.batch.decodeReply(body).duplicate;

test('set, get, delete and incr; a multi-key write with one bad key applies nothing', async (t) => {
  const actor = await startActor(t, { maxValueBytes: 32 });
  const peer = new RawPeer(t, actor.endpoint);
  const [x, y, n] = [key('kv', 'x'), key('kv', 'y'), key('kv', 'n')];

  ok(t, await peer.ask('set', C.set.encodeRequest({ entries: [{ key: x, value: Buffer.from('one') }, { key: y, value: EMPTY }] })));
  t.deepEqual(values(ok(t, await peer.ask('get', C.get.encodeRequest({ keys: [x, y, key('kv', 'missing')] })))), ['one', '', undefined]);
  t.is(C.delete.decodeReply(ok(t, await peer.ask('delete', C.delete.encodeRequest({ keys: [x, x, key('kv', 'missing')] })))).count, 1);
  t.deepEqual(C.incr.decodeReply(ok(t, await peer.ask('incr', C.incr.encodeRequest({ entries: [{ key: n, delta: 5 }, { key: n, delta: -7 }] })))).totals, [5, -2]);
  t.deepEqual(values(ok(t, await peer.request(get(x, n)))), [undefined, -2n]);

  const tooBig = await peer.ask('set', C.set.encodeRequest({ entries: [{ key: x, value: Buffer.from('kept out') }, { key: y, value: Buffer.alloc(33) }] }));
  t.is(tooBig.code, 'TOO_LARGE');
  const wrongType = await peer.ask('incr', C.incr.encodeRequest({ entries: [{ key: n, delta: 100 }, { key: y, delta: 1 }] }));
  t.is(wrongType.code, 'WRONG_TYPE');
  t.deepEqual(values(ok(t, await peer.request(get(x, y, n)))), [undefined, '', -2n], 'the refused requests changed nothing');
  const fork = actor.map.lookup(x).fork;
  const stats = C.stats.decodeReply(ok(t, await peer.ask('stats', EMPTY)));
  t.true(stats.forks.find((f) => f.fork === fork)!.ops >= 10, 'every routed key counts an op on its fork');
});

test('batch: applied once per (producer, seq), a redelivery while queued is a duplicate, a failed batch is not recorded', async (t) => {
  const actor = await startActor(t);
  const peer = new RawPeer(t, actor.endpoint);
  const [a, b, bytes] = [key('bt', 'a'), key('bt', 'b'), key('bt', 'bytes')];
  ok(t, await peer.ask('set', C.set.encodeRequest({ entries: [{ key: bytes, value: Buffer.from('not a counter') }] })));

  // One group: the first copy is queued, the second waits for its outcome, the get sees it applied once.
  const first = await peer.bundle([batch('p', 1, [incrOp(a, 2), incrOp(b, 3), incrOp(a, 1)]), batch('p', 1, [incrOp(a, 2), incrOp(b, 3), incrOp(a, 1)]), get(a, b)]);
  t.deepEqual(first.map((r) => r.code), ['OK', 'OK', 'OK']);
  t.deepEqual([duplicate(first[0]!.body), duplicate(first[1]!.body)], [false, true]);
  t.deepEqual(values(first[2]!.body), [3n, 3n]);
  t.true(duplicate(ok(t, await peer.request(batch('p', 1, [incrOp(a, 2)])))), 'redelivered after the commit');

  // Packed increments take the same queue.
  const packed = { cmd: 'batch', body: C.batch.encodeRequest({ producer: 'p', seq: 2, floor: 0, ops: [], incrs: packIncrs([a, b], [10, 20]) }) };
  t.false(duplicate(ok(t, await peer.request(packed))));
  t.true(duplicate(ok(t, await peer.request(packed))));

  // A batch that is not all increments is applied at once, atomically.
  const mixed = batch('p', 3, [setOp(key('bt', 's'), 'v'), incrOp(a, 1)]);
  t.false(duplicate(ok(t, await peer.request(mixed))));
  t.true(duplicate(ok(t, await peer.request(mixed))));
  const mixedBad = batch('p', 4, [setOp(key('bt', 's'), 'overwritten'), incrOp(bytes, 1)]);
  t.is((await peer.request(mixedBad)).code, 'WRONG_TYPE');

  // A failing queued batch fails alone, and is not recorded: once the key is fixed, the same seq applies.
  const queuedBad = batch('p', 5, [incrOp(a, 100), incrOp(bytes, 1)]);
  const group = await peer.bundle([batch('p', 6, [incrOp(b, 1)]), queuedBad, batch('p', 7, [incrOp(b, 1)])]);
  t.deepEqual(group.map((r) => r.code), ['OK', 'WRONG_TYPE', 'OK']);
  t.deepEqual(values(ok(t, await peer.request(get(a, b, key('bt', 's'))))), [14n, 25n, 'v']);
  ok(t, await peer.ask('delete', C.delete.encodeRequest({ keys: [bytes] })));
  t.false(duplicate(ok(t, await peer.request(queuedBad))));
  t.deepEqual(values(ok(t, await peer.request(get(a, bytes)))), [114n, 1n]);

  const noProducer = batch('', 8, [incrOp(a, 1)]);
  t.is((await peer.request(noProducer)).code, 'BAD_REQUEST');
  const both = { cmd: 'batch', body: C.batch.encodeRequest({ producer: 'p', seq: 9, floor: 0, ops: [incrOp(a, 1)], incrs: packIncrs([a], [1]) }) };
  t.is((await peer.request(both)).code, 'BAD_REQUEST');
});

test('dedup records are pruned per actor: each actor in a process keeps its own pruned floor', async (t) => {
  const first = await startActor(t, { id: 'a' });
  const second = await startActor(t, { id: 'b' });
  const [p1, p2] = [new RawPeer(t, first.endpoint), new RawPeer(t, second.endpoint)];
  const k = key('prune', 'k');
  for (const peer of [p1, p2]) ok(t, await peer.request(batch('p', 1, [incrOp(k, 1)])));
  t.true(first.db.dedupSeen('p', 1));
  t.true(second.db.dedupSeen('p', 1));
  // Floor 300: seqs below it are acknowledged and never resent, so both actors may forget seq 1.
  ok(t, await p1.request(batch('p', 300, [incrOp(k, 1)], 300)));
  ok(t, await p2.request(batch('p', 301, [incrOp(k, 1)], 300)));
  t.false(first.db.dedupSeen('p', 1));
  t.false(second.db.dedupSeen('p', 1), 'the other actor pruning first does not stop this one');
  t.true(second.db.dedupSeen('p', 301));
});

test('scan pages through one routing prefix by cursor; keysOnly leaves values out', async (t) => {
  const actor = await startActor(t);
  const peer = new RawPeer(t, actor.endpoint);
  const words = Array.from({ length: 25 }, (_, i) => `w${String(i).padStart(2, '0')}`);
  ok(t, await peer.ask('set', C.set.encodeRequest({ entries: [...words.map((w) => ({ key: key('the', w), value: Buffer.from(w) })), { key: key('thee', 'x'), value: Buffer.from('other') }] })));
  const prefix = rangePrefix('t', Buffer.from('the'));
  const seen: string[] = [];
  const pages: number[] = [];
  let after: Buffer | null = null;
  do {
    const page = C.scan.decodeReply(ok(t, await peer.ask('scan', C.scan.encodeRequest({ prefix, after, limit: 10, keysOnly: false }))));
    pages.push(page.keys.length);
    t.deepEqual(page.values.map((v) => v.data.toString()), page.keys.map((k) => k.subarray(-3).toString()));
    seen.push(...page.keys.map((k) => k.subarray(-3).toString()));
    after = page.next;
  } while (after);
  t.deepEqual(pages, [10, 10, 5]);
  t.deepEqual(seen, words);
  const keysOnly = C.scan.decodeReply(ok(t, await peer.ask('scan', C.scan.encodeRequest({ prefix, after: null, limit: 3, keysOnly: true }))));
  t.is(keysOnly.keys.length, 3);
  t.deepEqual(keysOnly.values, []);
  t.deepEqual(keysOnly.next, keysOnly.keys[2]);
});

test('reduce and summary over one prefix and over every owned fork', async (t) => {
  const actor = await startActor(t);
  const peer = new RawPeer(t, actor.endpoint);
  ok(t, await peer.request(batch('r', 1, [1, 2, 3, 4, 5].map((d) => incrOp(key('r', `k${d}`), d)))));
  ok(t, await peer.ask('set', C.set.encodeRequest({ entries: [{ key: key('other', 'x'), value: Buffer.from('bytes') }] })));
  const prefix = rangePrefix('t', Buffer.from('r'));
  const reduce = (name: string, p: Buffer) => peer.ask('reduce', C.reduce.encodeRequest({ name, prefix: p, args: EMPTY }));
  const sum = SumResult.fromBuffer(C.reduce.decodeReply(ok(t, await reduce('sum', prefix))).result) as SumValue;
  t.like(sum, { sum: '15', counters: 5, skipped: 0 });
  const all = SumResult.fromBuffer(C.reduce.decodeReply(ok(t, await reduce('sum', EMPTY))).result) as SumValue;
  t.like(all, { sum: '15', counters: 5, skipped: 1 });
  t.is((CountResult.fromBuffer(C.reduce.decodeReply(ok(t, await reduce('count', EMPTY))).result) as { entries: number }).entries, 6);
  t.is((await reduce('no-such-reducer', prefix)).code, 'UNKNOWN_COMMAND');

  const summary = C.summary.decodeReply(ok(t, await peer.ask('summary', C.summary.encodeRequest({ prefix, depth: 2 }))));
  t.is(summary.entries, 5);
  t.is(summary.branches.length, 5, 'the 5 keys differ within 2 bytes after the prefix');
  t.is(summary.branches.reduce((s, b) => s + b.entries, 0), 5);
  t.is(C.summary.decodeReply(ok(t, await peer.ask('summary', C.summary.encodeRequest({ prefix: EMPTY, depth: 0 })))).entries, 6);
  t.is((await peer.ask('summary', C.summary.encodeRequest({ prefix, depth: 65 }))).code, 'BAD_REQUEST');
});

test('purge clears one prefix (a whole fork with its dedup records); reset clears every owned fork', async (t) => {
  const actor = await startActor(t);
  const peer = new RawPeer(t, actor.endpoint);
  const kept = key('keep', 'x');
  ok(t, await peer.request(batch('p', 1, [incrOp(key('gone', 'a'), 1), incrOp(key('gone', 'b'), 1)])));
  ok(t, await peer.ask('set', C.set.encodeRequest({ entries: [{ key: kept, value: Buffer.from('v') }] })));
  t.is((await peer.ask('purge', C.purge.encodeRequest({ prefix: EMPTY }))).code, 'BAD_REQUEST');
  t.is(C.purge.decodeReply(ok(t, await peer.ask('purge', C.purge.encodeRequest({ prefix: rangePrefix('t', Buffer.from('gone')) })))).count, 2);
  t.true(actor.db.dedupSeen('p', 1), 'a prefix narrower than the fork keeps the dedup records');
  t.deepEqual(values(ok(t, await peer.request(get(kept, key('gone', 'a'))))), ['v', undefined]);

  ok(t, await peer.request(batch('p', 2, [incrOp(key('gone', 'a'), 1)])));
  const fork = actor.map.lookup(key('gone', 'a')).fork;
  t.is(C.purge.decodeReply(ok(t, await peer.ask('purge', C.purge.encodeRequest({ prefix: Buffer.from(fork, 'hex') })))).count, 1);
  t.false(actor.db.dedupSeen('p', 2), 'purging the whole fork drops its dedup records');

  ok(t, await peer.ask('set', C.set.encodeRequest({ entries: [{ key: key('more', 'y'), value: Buffer.from('w') }] })));
  t.is(C.reset.decodeReply(ok(t, await peer.ask('reset', EMPTY))).count, 2);
  t.is(actor.db.size(EMPTY).keys, 0);
});
