// The packed form of all-increment batches (BatchReq.incrs): the codec on its own, then a real
// actor applying packed batches exactly once, refusing malformed ones and keeping on serving.
import test from 'ava';
import type { BatchOp } from '../schemas/data.js';
import { STORE_COMMANDS } from '../schemas/store.js';
import { StoreClient } from '../store/client/client.js';
import { StoreError } from '../store/protocol/errors.js';
import { makeKey } from '../store/protocol/keys.js';
import { packIncrs, unpackIncrs } from '../store/protocol/packed_incrs.js';
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
