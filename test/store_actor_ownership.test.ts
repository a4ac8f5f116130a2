// Which requests an actor refuses, by reply code, through the real dispatch of a StoreActor in this
// process: MOVED for a fork owned elsewhere, FENCED for a fenced fork or a closed write gate,
// CROSS_FORK for a batch or range over several forks, TOO_LARGE / BAD_REQUEST for keys and values
// out of bounds. Refused requests apply nothing.
import test from 'ava';
import { OP_INCR, OP_SET, type BatchOp } from '../schemas/data.js';
import { STORE_COMMANDS } from '../schemas/store.js';
import { StoreError } from '../store/protocol/errors.js';
import { makeKey, rangePrefix } from '../store/protocol/keys.js';
import { RawPeer, startActor } from './helpers/actor_in_process.js';

const C = STORE_COMMANDS;
const EMPTY = Buffer.alloc(0);
const key = (ctx: string, rest = '') => makeKey('o', Buffer.from(ctx), Buffer.from(rest));
const incrOp = (k: Buffer, delta = 1): BatchOp => ({ op: OP_INCR, key: k, value: EMPTY, delta });
const setOp = (k: Buffer, value: Buffer): BatchOp => ({ op: OP_SET, key: k, value, delta: 0 });
const batch = (seq: number, ops: BatchOp[]) => ({ cmd: 'batch', body: C.batch.encodeRequest({ producer: 'p', seq, floor: 0, ops, incrs: EMPTY }) });
const set = (k: Buffer, value = 'v') => ({ cmd: 'set', body: C.set.encodeRequest({ entries: [{ key: k, value: Buffer.from(value) }] }) });
const get = (k: Buffer) => ({ cmd: 'get', body: C.get.encodeRequest({ keys: [k] }) });

/** Two contexts whose keys fall in different forks. */
function keysInTwoForks(map: { lookup(k: Buffer): { fork: string } }): [Buffer, Buffer] {
  const first = key('c0', 'x');
  for (let i = 1; ; i++) {
    const other = key(`c${i}`, 'x');
    if (map.lookup(other).fork !== map.lookup(first).fork) return [first, other];
  }
}

test('a fork owned elsewhere gets MOVED with the owner, its endpoint and the epoch, for reads, writes and batches', async (t) => {
  const actor = await startActor(t);
  const peer = new RawPeer(t, actor.endpoint);
  const k = key('moved', 'x');
  const fork = actor.map.lookup(k).fork;
  t.is((await peer.request(set(k))).code, 'OK');
  actor.applyMap(actor.map.assign(fork, 'b'), [['b', 'tcp://127.0.0.1:1']]);
  const expected = { fork, owner: 'b', endpoint: 'tcp://127.0.0.1:1', epoch: actor.map.get(fork)!.epoch };
  for (const call of [get(k), set(k, 'no'), batch(1, [incrOp(k)]), { cmd: 'scan', body: C.scan.encodeRequest({ prefix: rangePrefix('o', Buffer.from('moved')), after: null, limit: 1, keysOnly: true }) }]) {
    const reply = await peer.request(call);
    t.is(reply.code, 'MOVED', call.cmd);
    t.true(reply.retryable);
    t.deepEqual({ ...reply.redirect }, expected, call.cmd);
  }
  t.deepEqual(actor.db.get(k), Buffer.from('v'), 'the refused set applied nothing');
});

test('FENCED for writes to a fenced fork or while the write gate refuses; reads are still served', async (t) => {
  const actor = await startActor(t);
  const peer = new RawPeer(t, actor.endpoint);
  const [k, elsewhere] = keysInTwoForks(actor.map);
  const fork = actor.map.lookup(k).fork;
  actor.fence(fork);
  t.true(actor.isFenced(fork));
  for (const call of [set(k), batch(1, [incrOp(k)]), { cmd: 'purge', body: C.purge.encodeRequest({ prefix: Buffer.from(fork, 'hex') }) }]) {
    const reply = await peer.request(call);
    t.is(reply.code, 'FENCED', call.cmd);
    t.true(reply.retryable);
  }
  t.is((await peer.request(get(k))).code, 'OK');
  t.is((await peer.request(set(elsewhere))).code, 'OK', 'other forks take writes');
  actor.unfence(fork);
  t.is((await peer.request(set(k))).code, 'OK');

  actor.writeGate = () => new StoreError('FENCED', 'no write lease', true);
  t.is((await peer.request(set(elsewhere, 'gated'))).code, 'FENCED');
  t.is((await peer.request(get(elsewhere))).code, 'OK');
  actor.writeGate = null;
  t.is((await peer.request(set(elsewhere, 'open'))).code, 'OK');
  t.deepEqual(actor.db.get(elsewhere), Buffer.from('open'));
});

test('the read gate refuses every read command once per request; writes and admin commands pass it', async (t) => {
  const actor = await startActor(t);
  const peer = new RawPeer(t, actor.endpoint);
  const [k] = keysInTwoForks(actor.map);
  t.is((await peer.request(set(k))).code, 'OK');
  let asked = 0;
  actor.readGate = () => {
    asked++;
    return new StoreError('FENCED', 'no lease', true);
  };
  const prefix = Buffer.from(actor.map.lookup(k).fork, 'hex');
  const reads = [
    { cmd: 'get', body: C.get.encodeRequest({ keys: [k, key('c0', 'y'), key('c0', 'z')] }) },
    { cmd: 'scan', body: C.scan.encodeRequest({ prefix, after: null, limit: 10, keysOnly: false }) },
    { cmd: 'reduce', body: C.reduce.encodeRequest({ name: 'count', prefix: EMPTY, args: EMPTY }) },
    { cmd: 'summary', body: C.summary.encodeRequest({ prefix: EMPTY, depth: 0 }) },
  ];
  for (const call of reads) {
    const reply = await peer.request(call);
    t.is(reply.code, 'FENCED', call.cmd);
    t.true(reply.retryable);
  }
  t.is(asked, reads.length, 'one check per request, not per key');
  for (const cmd of ['ping', 'stats', 'map']) t.is((await peer.ask(cmd, EMPTY)).code, 'OK', cmd);
  t.is((await peer.request(set(k, 'w'))).code, 'OK', 'writes answer to the write gate');
  actor.readGate = null;
  t.is((await peer.request(get(k))).code, 'OK');
});

test('CROSS_FORK for a batch over two forks (queued or not) and for a scan prefix over several', async (t) => {
  const actor = await startActor(t);
  const peer = new RawPeer(t, actor.endpoint);
  const [k, other] = keysInTwoForks(actor.map);
  t.is((await peer.request(batch(1, [incrOp(k), incrOp(other)]))).code, 'CROSS_FORK');
  t.is((await peer.request(batch(2, [setOp(k, Buffer.from('v')), incrOp(other)]))).code, 'CROSS_FORK');
  t.is((await peer.request({ cmd: 'scan', body: C.scan.encodeRequest({ prefix: EMPTY, after: null, limit: 1, keysOnly: true }) })).code, 'CROSS_FORK');
  t.is(actor.db.get(k), undefined);
  t.false(actor.db.dedupSeen('p', 1));
  t.false(actor.db.dedupSeen('p', 2));
  // A batch key in a fork owned elsewhere gets that fork's MOVED rather than CROSS_FORK.
  actor.applyMap(actor.map.assign(actor.map.lookup(other).fork, 'b'));
  t.is((await peer.request(batch(3, [incrOp(k), incrOp(other)]))).code, 'MOVED');
});

test('keys and values out of bounds: BAD_REQUEST below the routing bytes, TOO_LARGE above the limits, in every command', async (t) => {
  const actor = await startActor(t, { maxKeyBytes: 64, maxValueBytes: 32 });
  const peer = new RawPeer(t, actor.endpoint);
  const k = key('bounds', 'x');
  const long = Buffer.concat([k, Buffer.alloc(64 - k.length + 1)]);
  const short = Buffer.from([1, 2, 3]);
  t.is((await peer.request(get(short))).code, 'BAD_REQUEST');
  t.is((await peer.request(set(short))).code, 'BAD_REQUEST');
  t.is((await peer.request(batch(1, [incrOp(k), incrOp(short)]))).code, 'BAD_REQUEST');
  t.is((await peer.request(get(long))).code, 'TOO_LARGE');
  t.is((await peer.request(set(long))).code, 'TOO_LARGE');
  t.is((await peer.request(batch(2, [incrOp(k), incrOp(long)]))).code, 'TOO_LARGE');
  t.is((await peer.request(batch(3, [setOp(k, Buffer.from('ok')), setOp(k, Buffer.alloc(33))]))).code, 'TOO_LARGE');
  t.is((await peer.request(set(k, 'x'.repeat(33)))).code, 'TOO_LARGE');
  t.is((await peer.request({ cmd: 'scan', body: C.scan.encodeRequest({ prefix: long, after: null, limit: 1, keysOnly: true }) })).code, 'TOO_LARGE');
  t.is((await peer.request({ cmd: 'get', body: Buffer.from([0x99, 0x99, 0x99]) })).code, 'BAD_REQUEST', 'an undecodable body');
  t.is((await peer.request({ cmd: 'no-such-command', body: EMPTY })).code, 'UNKNOWN_COMMAND');
  t.is(actor.db.get(k), undefined, 'nothing of the refused requests was applied');
  t.is((await peer.request(set(Buffer.concat([k, Buffer.alloc(64 - k.length)])))).code, 'OK', 'a key of exactly the limit is fine');
});
