// Bad input never stops an actor: garbage frames, unknown commands, oversized or mistyped data all get
// error replies, and a normal get still works afterwards. Also: no unauthenticated non-loopback bind.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import zmq from 'zeromq';
import { CLUSTER_COMMANDS, type GossipMessage } from '../schemas/cluster.js';
import { ReplyType, encodeRequest, type Reply } from '../schemas/envelope.js';
import { STORE_COMMANDS } from '../schemas/store.js';
import { checkBindAllowed } from '../store/protocol/endpoint.js';
import { textKey } from '../store/protocol/keys.js';
import { runToExit, spawnActor, tmpDir } from './helpers/store_procs.js';

async function rawDealer(t: { teardown: (fn: () => void) => void }, ep: string) {
  const sock = new zmq.Dealer({ linger: 0, receiveTimeout: 5000 });
  sock.connect(ep);
  t.teardown(() => sock.close());
  return {
    async ask(frames: Buffer[]): Promise<Reply> {
      return (await this.askAll(frames))[0]!;
    },
    /** Send one message and collect `n` replies (bundled peers get several per frame, back to back). */
    async askAll(frames: Buffer[], n = frames.length): Promise<Reply[]> {
      await sock.send(frames);
      const out: Reply[] = [];
      while (out.length < n) {
        for (const f of await sock.receive()) {
          for (let pos = 0; pos < f.length; ) {
            const r = ReplyType.decode(f, pos);
            out.push(r.value as Reply);
            pos = r.offset;
          }
        }
      }
      return out;
    },
  };
}
const req = (id: number, cmd: string, body: Buffer) => encodeRequest({ id, cmd, epoch: 0, body });

test('garbage frames, unknown commands, oversized and mistyped data get error replies; the actor keeps serving', async (t) => {
  const a = await spawnActor(t, 'a');
  const d = await rawDealer(t, a.ep);
  const key = textKey('b:ctx|k');
  const ok = await d.ask([req(1, 'set', STORE_COMMANDS.set.encodeRequest({ entries: [{ key, value: Buffer.from('v') }] }))]);
  t.is(ok.code, 'OK');

  const garbage = await d.ask([Buffer.from([0xff, 0xfe, 0x00, 0x13, 0x37, 0x99])]);
  t.is(garbage.code, 'BAD_REQUEST');
  t.is(garbage.id, 0, 'an undecodable frame has no request id to answer');
  const empty = await d.ask([Buffer.alloc(0)]);
  t.is(empty.code, 'BAD_REQUEST');
  // Every frame is read on its own: garbage frames get errors, and good requests in the same
  // message (also several back to back in one frame) are still served.
  const multi = await d.askAll([Buffer.from('a'), Buffer.from('b'), Buffer.concat([req(20, 'ping', Buffer.alloc(0)), req(21, 'ping', Buffer.alloc(0))])], 4);
  t.deepEqual(multi.map((r) => [r.id, r.code]).sort(), [[0, 'BAD_REQUEST'], [0, 'BAD_REQUEST'], [20, 'OK'], [21, 'OK']]);
  const tail = await d.askAll([Buffer.concat([req(22, 'ping', Buffer.alloc(0)), Buffer.from([0x02, 0x99])])], 2);
  t.deepEqual(tail.map((r) => [r.id, r.code]).sort(), [[0, 'BAD_REQUEST'], [22, 'OK']]);

  // Envelopes whose cmd or body length claims far more than the frame holds.
  const longCmd = await d.ask([Buffer.concat([Buffer.from([0x02]), Buffer.from('feffffff0f', 'hex'), Buffer.from('ping')])]);
  t.deepEqual([longCmd.id, longCmd.code], [0, 'BAD_REQUEST']);
  const longBody = await d.ask([Buffer.concat([Buffer.from([0x02, 0x08]), Buffer.from('ping'), Buffer.from([0x00]), Buffer.from('feffffffffffff0f', 'hex')])]);
  t.deepEqual([longBody.id, longBody.code], [0, 'BAD_REQUEST']);

  // A huge command name is not echoed back whole: a reply never grows with what the sender made up.
  const huge = await d.ask([req(30, 'x'.repeat(1 << 20), Buffer.alloc(0))]);
  t.is(huge.code, 'UNKNOWN_COMMAND');
  t.true(huge.message.length < 4096, `a reply message of ${huge.message.length} characters`);

  const unknown = await d.ask([req(2, 'drop-tables', Buffer.alloc(0))]);
  t.is(unknown.code, 'UNKNOWN_COMMAND');
  t.is(unknown.id, 2);
  const badBody = await d.ask([req(3, 'get', Buffer.from([0x99, 0x99, 0x99]))]);
  t.is(badBody.code, 'BAD_REQUEST');
  const shortKey = await d.ask([req(4, 'get', STORE_COMMANDS.get.encodeRequest({ keys: [Buffer.from([1, 2])] }))]);
  t.is(shortKey.code, 'BAD_REQUEST');

  const bigValue = Buffer.alloc(16 * 1024 * 1024 + 1, 7);
  const tooBig = await d.ask([req(5, 'set', STORE_COMMANDS.set.encodeRequest({ entries: [{ key: textKey('b:ctx|big'), value: bigValue }] }))]);
  t.is(tooBig.code, 'TOO_LARGE');
  const bigKey = Buffer.concat([key.subarray(0, 4), Buffer.alloc(70 * 1024)]);
  const tooLong = await d.ask([req(6, 'set', STORE_COMMANDS.set.encodeRequest({ entries: [{ key: bigKey, value: Buffer.from('x') }] }))]);
  t.is(tooLong.code, 'TOO_LARGE');

  const wrongType = await d.ask([req(7, 'incr', STORE_COMMANDS.incr.encodeRequest({ entries: [{ key, delta: 1 }] }))]);
  t.is(wrongType.code, 'WRONG_TYPE');
  const badOp = await d.ask([req(8, 'batch', STORE_COMMANDS.batch.encodeRequest({ producer: 'p', seq: 1, floor: 0, ops: [{ op: 9, key, value: Buffer.alloc(0), delta: 0 }], incrs: Buffer.alloc(0) }))]);
  t.is(badOp.code, 'BAD_REQUEST');
  const noProducer = await d.ask([req(9, 'batch', STORE_COMMANDS.batch.encodeRequest({ producer: '', seq: 1, floor: 0, ops: [], incrs: Buffer.alloc(0) }))]);
  t.is(noProducer.code, 'BAD_REQUEST');
  const badReducer = await d.ask([req(10, 'reduce', STORE_COMMANDS.reduce.encodeRequest({ name: 'nope', prefix: Buffer.alloc(0), args: Buffer.alloc(0) }))]);
  t.is(badReducer.code, 'UNKNOWN_COMMAND');
  const badArgs = await d.ask([req(11, 'reduce', STORE_COMMANDS.reduce.encodeRequest({ name: 'counts-of-counts', prefix: Buffer.alloc(0), args: Buffer.from([0x80]) }))]);
  t.is(badArgs.code, 'BAD_REQUEST');
  const badMap = await d.ask([req(12, 'map-apply', STORE_COMMANDS['map-apply'].encodeRequest({ map: { version: 9, entries: [{ fork: '00', owner: 'x', epoch: 9 }] }, members: [] }))]);
  t.is(badMap.code, 'BAD_REQUEST');

  // Still serving, and nothing above changed the data.
  const after = await d.ask([req(13, 'get', STORE_COMMANDS.get.encodeRequest({ keys: [key, textKey('b:ctx|big')] }))]);
  t.is(after.code, 'OK');
  const vals = (STORE_COMMANDS.get.decodeReply(after.body) as { values: { kind: number; data: Buffer }[] }).values;
  t.deepEqual(vals.map((v) => [v.kind, v.data.toString()]), [[1, 'v'], [0, '']]);
  t.is(a.proc.exitCode, null);
});

test('a non-loopback bind is refused without --insecure or CURVE keys', async (t) => {
  const r = await runToExit(['--id', 'a', '--data', tmpDir(), '--bind', 'tcp://10.11.12.13:5555']);
  t.is(r.code, 2);
  t.regex(r.out, /refusing to bind tcp:\/\/10\.11\.12\.13:5555.*--insecure/s);
  // The rule itself (never exercised by binding a real non-loopback address in tests):
  t.notThrows(() => checkBindAllowed('tcp://10.11.12.13:5555', { insecure: true, curve: false }));
  t.notThrows(() => checkBindAllowed('tcp://10.11.12.13:5555', { insecure: false, curve: true }));
  t.notThrows(() => checkBindAllowed('tcp://127.0.0.1:0', { insecure: false, curve: false }));
  t.notThrows(() => checkBindAllowed('tcp://[::1]:0', { insecure: false, curve: false }));
  t.throws(() => checkBindAllowed('tcp://0.0.0.0:0', { insecure: false, curve: false }), { message: /refusing/ });
  t.throws(() => checkBindAllowed('tcp://*:5555', { insecure: false, curve: false }), { message: /refusing/ });
  t.throws(() => checkBindAllowed('http://127.0.0.1:1', { insecure: true, curve: false }), { message: /not a ZeroMQ endpoint/ });
});

test('commands without a request body refuse one (a garbage stop neither stops nor resets anything)', async (t) => {
  const a = await spawnActor(t, 'a');
  const d = await rawDealer(t, a.ep);
  const key = textKey('b:ctx|k');
  t.is((await d.ask([req(1, 'set', STORE_COMMANDS.set.encodeRequest({ entries: [{ key, value: Buffer.from('v') }] }))])).code, 'OK');
  const garbage = Buffer.from([0x07]);
  let id = 10;
  for (const cmd of ['reset', 'stop', 'ping', 'stats', 'checkpoint', 'map']) {
    t.is((await d.ask([req(id++, cmd, garbage)])).code, 'BAD_REQUEST', cmd);
  }
  await new Promise((r) => setTimeout(r, 200)); // a stop would have taken effect by now
  const after = await d.ask([req(id++, 'get', STORE_COMMANDS.get.encodeRequest({ keys: [key] }))]);
  t.is(after.code, 'OK');
  t.deepEqual(STORE_COMMANDS.get.decodeReply(after.body).values.map((v) => v.data.toString()), ['v']);
  t.is(a.proc.exitCode, null);
});

test('gossip naming a malformed member id or endpoint is refused: it neither joins nor fences the actor', async (t) => {
  const a = await spawnActor(t, 'a');
  const d = await rawDealer(t, a.ep);
  const gossip = CLUSTER_COMMANDS.gossip;
  const base: GossipMessage = { kind: 'PING', from: 'b', fromEndpoint: 'tcp://127.0.0.1:9', incarnation: 0, seq: 1, target: '', targetEndpoint: '', digest: '', updates: [], forks: [] };
  const bad: GossipMessage[] = [
    { ...base, fromEndpoint: 'garbage' },
    { ...base, from: 'x\u0000y' },
    { ...base, from: '' },
    { ...base, kind: 'PING_REQ', target: 'c', targetEndpoint: '127.0.0.1:9' },
    { ...base, from: 'a', updates: [{ id: 'c', endpoint: 'nowhere', incarnation: 0, state: 'alive' }] },
    { ...base, from: 'a', updates: [{ id: 'é', endpoint: 'tcp://127.0.0.1:9', incarnation: 0, state: 'alive' }] },
  ];
  let id = 1;
  for (const msg of bad) t.is((await d.ask([req(id++, 'gossip', gossip.encodeRequest(msg))])).code, 'BAD_REQUEST', JSON.stringify(msg));
  const members = CLUSTER_COMMANDS.members.decodeReply((await d.ask([req(id++, 'members', Buffer.alloc(0))])).body);
  t.deepEqual(members.members.map((m) => m.id), ['a'], 'nobody joined');
  // Alone, the actor needs no lease: its writes go on.
  const set = await d.ask([req(id++, 'set', STORE_COMMANDS.set.encodeRequest({ entries: [{ key: textKey('b:ctx|k'), value: Buffer.from('v') }] }))]);
  t.is(set.code, 'OK');
});

test('an incr whose total leaves the safe integer range is TOO_LARGE and applies nothing', async (t) => {
  const a = await spawnActor(t, 'a');
  const d = await rawDealer(t, a.ep);
  const key = textKey('b:ctx|big');
  const incr = (id: number, delta: number) => d.ask([req(id, 'incr', STORE_COMMANDS.incr.encodeRequest({ entries: [{ key, delta }] }))]);
  t.is((await incr(1, 2 ** 53 - 2)).code, 'OK');
  t.is((await incr(2, 10)).code, 'TOO_LARGE');
  const after = await d.ask([req(3, 'get', STORE_COMMANDS.get.encodeRequest({ keys: [key] }))]);
  t.is(STORE_COMMANDS.get.decodeReply(after.body).values[0]!.data.readBigInt64LE(), 2n ** 53n - 2n, 'the counter is as before');
});

test('a fork map file with a count its bytes cannot hold is refused at start, naming the file', async (t) => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'forkmap.avro'), Buffer.from('00feffffff0f', 'hex')); // version 0, then 2^31 entries
  const r = await runToExit(['--id', 'a', '--data', dir]);
  t.is(r.code, 1, `exit code ${r.code}, signal ${r.signal}: ${r.out}`);
  t.true(r.out.includes(path.join(dir, 'forkmap.avro')), `exit code ${r.code}, signal ${r.signal}, output: ${JSON.stringify(r.out)}`);
});
