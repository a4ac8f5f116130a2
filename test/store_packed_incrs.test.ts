// The packed form of batches of increments and marks (BatchReq.incrs, .marks): the codecs on their
// own, the split by fork, then a real actor applying packed batches exactly once, refusing
// malformed ones and keeping on serving, and marks never overwriting.
import test from 'ava';
import type { BatchOp } from '../schemas/data.js';
import { STORE_COMMANDS } from '../schemas/store.js';
import { StoreClient } from '../store/client/client.js';
import { StoreError } from '../store/protocol/errors.js';
import { makeKey } from '../store/protocol/keys.js';
import { packByFork, packIncrs, packMarks, unpackIncrs, unpackMarks } from '../store/protocol/packed_incrs.js';
import { spawnActor } from './helpers/store_procs.js';

test('packIncrs / unpackIncrs round-trip keys and signed 53-bit deltas; malformed input is BAD_REQUEST', (t) => {
  const keys = [Buffer.from([1, 2, 3, 4]), Buffer.alloc(0), Buffer.alloc(70000, 7), Buffer.from('abcdef')];
  const deltas = [1, -1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];
  const buf = packIncrs(keys, deltas);
  t.is(buf.length, keys.reduce((s, k) => s + 12 + k.length, 0));
  const back = unpackIncrs(buf);
  t.deepEqual(back.keys.map((k) => k.toString('hex')), keys.map((k) => k.toString('hex')));
  t.deepEqual(back.deltas, deltas);
  t.deepEqual(unpackIncrs(packIncrs([Buffer.from('k')], [-4294967297])).deltas, [-4294967297]);
  t.throws(() => packIncrs([Buffer.from('k')], [2 ** 53]), { instanceOf: RangeError });
  for (const cut of [1, 5, buf.length - 1]) {
    const e = t.throws(() => unpackIncrs(buf.subarray(0, cut)), { instanceOf: StoreError });
    t.is(e?.code, 'BAD_REQUEST');
    t.regex(e?.message ?? '', /at byte \d+/);
  }
  const huge = packIncrs([Buffer.from('k')], [1]);
  huge.writeInt32LE(0x00300000, huge.length - 4); // delta high word beyond 2^53
  t.is(t.throws(() => unpackIncrs(huge), { instanceOf: StoreError })?.code, 'BAD_REQUEST');
  // Key lengths that claim more than the bytes present are refused before anything is taken.
  for (const len of [0xffffffff, 0x7fffffff, 1 << 20]) {
    const claim = Buffer.alloc(16);
    claim.writeUInt32LE(len, 0);
    t.is(t.throws(() => unpackIncrs(claim), { instanceOf: StoreError })?.code, 'BAD_REQUEST', `length ${len}`);
  }
});

test('a real actor applies packed batches once, fails a bad one alone, refuses malformed ones and keeps serving', async (t) => {
  const a = await spawnActor(t, 'a');
  const c = await StoreClient.connect(a.ep, { timeoutMs: 5000 });
  t.teardown(() => c.close());
  const key = (r: string) => makeKey('pk', Buffer.from('ctx'), Buffer.from(r));
  await c.set(key('bytes'), Buffer.from('not a counter'));
  const body = (seq: number, incrs: Buffer, ops: BatchOp[] = []) => STORE_COMMANDS.batch.encodeRequest({ producer: 'pk', seq, floor: 0, ops, incrs });
  const packed = (seq: number, kd: [string, number][]) => body(seq, packIncrs(kd.map(([r]) => key(r)), kd.map(([, d]) => d)));
  const reps = await Promise.all([
    c.raw(a.ep, 'batch', packed(1, [['k1', 1], ['k2', 1], ['k1', 2]])),
    c.raw(a.ep, 'batch', packed(2, [['k1', 5], ['bytes', 1]])),
    c.raw(a.ep, 'batch', packed(3, [['k2', -10], ['k3', 2 ** 40]])),
    c.raw(a.ep, 'batch', packed(1, [['k1', 1], ['k2', 1], ['k1', 2]])),
  ]);
  t.deepEqual(reps.map((r) => r.code), ['OK', 'WRONG_TYPE', 'OK', 'OK']);
  t.deepEqual([0, 2, 3].map((i) => (STORE_COMMANDS.batch.decodeReply(reps[i]!.body) as { duplicate: boolean }).duplicate), [false, false, true]);
  t.deepEqual(await c.multiGet([key('k1'), key('k2'), key('k3'), key('bytes')]), [3n, -9n, 2n ** 40n, Buffer.from('not a counter')]);
  t.is((await c.raw(a.ep, 'batch', packed(3, [['k2', -10]]))).code, 'OK', 'a redelivery after the commit is a duplicate');
  t.is(await c.get(key('k2')), -9n);

  const both = await c.raw(a.ep, 'batch', body(4, packIncrs([key('k1')], [1]), [{ op: 2, key: key('k1'), value: Buffer.alloc(0), delta: 1 }]));
  t.is(both.code, 'BAD_REQUEST');
  const truncated = await c.raw(a.ep, 'batch', body(5, packIncrs([key('k1')], [1]).subarray(0, 9)));
  t.is(truncated.code, 'BAD_REQUEST');
  const twoForks = [0, 1, 2, 3, 4, 5].map((i) => makeKey('pk', Buffer.from(`c${i}`), Buffer.from('w')));
  t.is((await c.raw(a.ep, 'batch', body(6, packIncrs(twoForks, twoForks.map(() => 1))))).code, 'CROSS_FORK');
  t.deepEqual(await c.multiGet([key('k1'), ...twoForks]), [3n, ...twoForks.map(() => undefined)], 'refused batches applied nothing');

  // The client packs all-increment batches itself; mixed batches still travel as ops.
  await c.batch([...twoForks.map((k) => ({ op: 'incr' as const, key: k, delta: 4 })), { op: 'incr', key: key('k1'), delta: 1 }]);
  await c.batch([{ op: 'set', key: key('s'), value: Buffer.from('v') }, { op: 'incr', key: key('k1'), delta: 1 }]);
  t.deepEqual(await c.multiGet([key('k1'), key('s'), ...twoForks]), [5n, Buffer.from('v'), ...twoForks.map(() => 4n)]);
});

test('packMarks / unpackMarks round-trip keys; a truncated record is BAD_REQUEST', (t) => {
  const keys = [Buffer.from([1, 2, 3, 4]), Buffer.alloc(0), Buffer.alloc(70000, 7), Buffer.from('abcdef')];
  const buf = packMarks(keys);
  t.is(buf.length, keys.reduce((s, k) => s + 4 + k.length, 0));
  t.deepEqual(unpackMarks(buf).map((k) => k.toString('hex')), keys.map((k) => k.toString('hex')));
  for (const cut of [1, 5, buf.length - 1]) t.is(t.throws(() => unpackMarks(buf.subarray(0, cut)), { instanceOf: StoreError })?.code, 'BAD_REQUEST');
});

test('packByFork splits packed keys into each fork\'s packed incrs and marks, in order, as packIncrs and packMarks would', (t) => {
  const keys = ['a1', 'b1', 'a2', 'a3', 'b2', 'c1'].map((k) => Buffer.from(k));
  const deltas = [1, -2, 2 ** 40];
  const forkOf = (key: Buffer) => String.fromCharCode(key[0]!);
  const groups = packByFork(Buffer.concat(keys), Uint32Array.from(keys, (k) => k.length), deltas, forkOf);
  t.deepEqual([...groups.keys()], ['a', 'b', 'c']);
  const hex = (b: Buffer) => b.toString('hex');
  t.deepEqual(hex(groups.get('a')!.incrs), hex(packIncrs([keys[0]!, keys[2]!], [1, 2 ** 40])));
  t.deepEqual(hex(groups.get('a')!.marks), hex(packMarks([keys[3]!])));
  t.deepEqual(hex(groups.get('b')!.incrs), hex(packIncrs([keys[1]!], [-2])));
  t.deepEqual(hex(groups.get('b')!.marks), hex(packMarks([keys[4]!])));
  t.is(groups.get('c')!.incrs.length, 0);
  t.deepEqual(hex(groups.get('c')!.marks), hex(packMarks([keys[5]!])));
  t.deepEqual(['a', 'b', 'c'].map((f) => groups.get(f)!.anchor.toString()), ['a1', 'b1', 'c1'], 'each fork is routed by its first key');
  t.throws(() => packByFork(Buffer.from('k'), Uint32Array.of(1), [2 ** 53], forkOf), { instanceOf: RangeError });
});

test('a real actor applies packed marks with increments once, never overwriting; packedAs groups as batchAs does', async (t) => {
  const a = await spawnActor(t, 'a');
  const c = await StoreClient.connect(a.ep, { timeoutMs: 5000 });
  t.teardown(() => c.close());
  const key = (r: string) => makeKey('pm', Buffer.from('ctx'), Buffer.from(r));
  await c.set(key('bytes'), Buffer.from('kept'));
  await c.incr(key('counter'), 5);
  const body = (seq: number, incrs: [string, number][], marks: string[]) =>
    STORE_COMMANDS.batch.encodeRequest({ producer: 'pm', seq, floor: 0, ops: [], incrs: packIncrs(incrs.map(([r]) => key(r)), incrs.map(([, d]) => d)), marks: packMarks(marks.map(key)) });
  const reps = await Promise.all([c.raw(a.ep, 'batch', body(1, [['n', 2]], ['m1', 'bytes', 'counter'])), c.raw(a.ep, 'batch', body(2, [], ['m2', 'm1'])), c.raw(a.ep, 'batch', body(1, [['n', 2]], ['m1']))]);
  t.deepEqual(reps.map((r) => r.code), ['OK', 'OK', 'OK']);
  t.true((STORE_COMMANDS.batch.decodeReply(reps[2]!.body) as { duplicate: boolean }).duplicate);
  t.deepEqual(await c.multiGet(['n', 'm1', 'm2', 'bytes', 'counter'].map(key)), [2n, Buffer.alloc(0), Buffer.alloc(0), Buffer.from('kept'), 5n]);
  const truncated = STORE_COMMANDS.batch.encodeRequest({ producer: 'pm', seq: 3, floor: 0, ops: [], incrs: Buffer.alloc(0), marks: packMarks([key('x')]).subarray(0, 6) });
  t.is((await c.raw(a.ep, 'batch', truncated)).code, 'BAD_REQUEST');
  const withOps = STORE_COMMANDS.batch.encodeRequest({ producer: 'pm', seq: 4, floor: 0, ops: [{ op: 2, key: key('n'), value: Buffer.alloc(0), delta: 1 }], incrs: Buffer.alloc(0), marks: packMarks([key('x')]) });
  t.is((await c.raw(a.ep, 'batch', withOps)).code, 'BAD_REQUEST');

  // packedAs over several forks: applied once; the same batch through batchAs under the same producer is a duplicate.
  const many = [0, 1, 2, 3, 4, 5].map((i) => makeKey('pm', Buffer.from(`c${i}`), Buffer.from('w')));
  const marked = [0, 1, 2, 3, 4, 5].map((i) => makeKey('pm', Buffer.from(`c${i}`), Buffer.from('v')));
  const all = [...many, ...marked];
  for (let round = 0; round < 2; round++) await c.packedAs('run-1', Buffer.concat(all), Uint32Array.from(all, (k) => k.length), many.map(() => 3));
  await c.batchAs('run-1', [...many.map((k) => ({ op: 'incr' as const, key: k, delta: 3 })), ...marked.map((k) => ({ op: 'mark' as const, key: k }))]);
  t.deepEqual(await c.multiGet(all), [...many.map(() => 3n), ...marked.map(() => Buffer.alloc(0))]);
});
