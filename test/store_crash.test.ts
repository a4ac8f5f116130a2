// kill -9 an actor while many batched writes are in flight, restart it on the same data dir:
// every acknowledged write is present, and the batches the client resends are applied exactly once.
import test from 'ava';
import { STORE_COMMANDS } from '../schemas/store.js';
import { StoreClient, type ClientOp } from '../store/client/client.js';
import { makeKey, textKey } from '../store/protocol/keys.js';
import { killed, spawnActor } from './helpers/store_procs.js';

const CONTEXTS = 40;
const FOLLOWERS = 25;
const CALLS = 500;
const KILL_AFTER_ACKS = 120;
const counterKey = (n: number) => makeKey('c', Buffer.from(`ctx${n % CONTEXTS}`), Buffer.from(`f${Math.floor(n / CONTEXTS)}`));
const setKey = (i: number) => makeKey('s', Buffer.from('acked'), Buffer.from(String(i)));

function opsOf(i: number): ClientOp[] {
  const ops: ClientOp[] = [];
  for (let j = 0; j < 40; j++) ops.push({ op: 'incr', key: counterKey((i * 7 + j * 13) % (CONTEXTS * FOLLOWERS)), delta: 1 + ((i + j) % 3) });
  ops.push({ op: 'set', key: setKey(i), value: Buffer.from(`value-${i}`) });
  return ops;
}

test('kill -9 mid-write: acknowledged writes survive and retried batches apply once', async (t) => {
  const a = await spawnActor(t, 'a', { extra: ['--durability', 'normal'] });
  const port = /:(\d+)$/.exec(a.ep)![1]!;
  const c = await StoreClient.connect(a.ep, { timeoutMs: 1500, retries: 40, producer: 'crash-test' });
  t.teardown(() => c.close());

  // One explicit redelivery across the crash, by hand.
  const dupKey = textKey('dup:x|y');
  const dupBatch = STORE_COMMANDS.batch.encodeRequest({ producer: 'by-hand', seq: 1, floor: 0, ops: [{ op: 2, key: dupKey, value: Buffer.alloc(0), delta: 10 }], incrs: Buffer.alloc(0) });
  t.is((await c.raw(a.ep, 'batch', dupBatch)).code, 'OK');

  const acked: number[] = [];
  let ackedAtKill: number[] | null = null;
  let killedAt: Promise<void> | null = null;
  let next = 0;
  const worker = async () => {
    while (next < CALLS) {
      const i = next++;
      await c.batch(opsOf(i));
      acked.push(i);
      if (acked.length === KILL_AFTER_ACKS && !killedAt) {
        ackedAtKill = [...acked];
        a.proc.kill('SIGKILL');
        killedAt = killed(a.proc);
      }
    }
  };
  const pump = Promise.all(Array.from({ length: 32 }, worker));
  await new Promise<void>((r) => {
    const iv = setInterval(() => killedAt && (clearInterval(iv), r()), 5);
  });
  await killedAt;
  t.is(a.proc.signalCode, 'SIGKILL');
  t.true(next > KILL_AFTER_ACKS + 10, 'writes were in flight when the actor died');

  const a2 = await spawnActor(t, 'a', { dir: a.dir, bind: `tcp://127.0.0.1:${port}` });
  t.is(a2.ep, a.ep);
  // Every write acknowledged before the kill is there, before any resend could have restored it.
  const check = await StoreClient.connect(a2.ep, { timeoutMs: 5000, producer: 'checker' });
  t.teardown(() => check.close());
  const got = await check.multiGet(ackedAtKill!.map(setKey));
  t.deepEqual(got.map((v) => v?.toString()), ackedAtKill!.map((i) => `value-${i}`));
  // The hand-made batch, redelivered after the restart, is recognised and not applied again.
  const again = await check.raw(a2.ep, 'batch', dupBatch);
  t.true((STORE_COMMANDS.batch.decodeReply(again.body) as { duplicate: boolean }).duplicate);
  t.is(await check.get(dupKey), 10n);

  await pump;
  t.is(acked.length, CALLS);
  const expected = new Map<string, bigint>();
  for (let i = 0; i < CALLS; i++) for (const op of opsOf(i)) if (op.op === 'incr') expected.set(op.key.toString('hex'), (expected.get(op.key.toString('hex')) ?? 0n) + BigInt(op.delta));
  const keys = [...expected.keys()].map((h) => Buffer.from(h, 'hex'));
  const totals = await check.multiGet(keys);
  const wrong = keys.filter((k, j) => totals[j] !== expected.get(k.toString('hex')));
  t.is(wrong.length, 0, `${wrong.length} of ${keys.length} counters differ from the exact totals`);
  const sets = await check.multiGet(Array.from({ length: CALLS }, (_, i) => setKey(i)));
  t.is(sets.filter((v, i) => v?.toString() !== `value-${i}`).length, 0);
});

test('an actor stalled past the client timeout gets every batch twice and applies each once', async (t) => {
  const a = await spawnActor(t, 'a');
  // The short timeout is for the stall below; on a loaded machine a fresh actor's first answer may take longer.
  (await StoreClient.connect(a.ep)).close();
  const c = await StoreClient.connect(a.ep, { timeoutMs: 400, retries: 40, producer: 'stall-test' });
  t.teardown(() => c.close());
  const calls = Array.from({ length: 60 }, (_, i) => i);
  a.proc.kill('SIGSTOP');
  const pump = Promise.all(calls.map((i) => c.batch(opsOf(i))));
  await new Promise((r) => setTimeout(r, 1500)); // every batch timed out at least twice and was resent
  a.proc.kill('SIGCONT');
  await pump;
  const expected = new Map<string, bigint>();
  for (const i of calls) for (const op of opsOf(i)) if (op.op === 'incr') expected.set(op.key.toString('hex'), (expected.get(op.key.toString('hex')) ?? 0n) + BigInt(op.delta));
  const keys = [...expected.keys()].map((h) => Buffer.from(h, 'hex'));
  const totals = await c.multiGet(keys);
  t.is(keys.filter((k, j) => totals[j] !== expected.get(k.toString('hex'))).length, 0);
});
