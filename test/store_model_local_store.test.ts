// The smoothing jobs' shortcuts into their own store actor (store/model/smooth/local_store.ts) on a
// real actor (in this process, real SQLite and ROUTER): writes of a fork it serves land in its
// database and settle once committed, reads come from it, and a fenced fork is left to the wire.
// Held Top-K heads (store/model/topk/held_heads.ts) come back as added across chunks, and a codes
// pass asked for held heads the actor does not have fails saying to smooth again.
import test from 'ava';
import { StoreClient } from '../store/client/client.js';
import { ForkBatchWriter } from '../store/model/fork_batches.js';
import { localGets, localWrites } from '../store/model/smooth/local_store.js';
import { attachSmoothJobs } from '../store/model/smooth/smooth_jobs.js';
import { NOT_LOCAL, multiGetLocal } from '../store/model/smooth/stat_scan.js';
import { HeldHeads } from '../store/model/topk/held_heads.js';
import { EncodeJobType, TOPK_ENCODE } from '../store/model/topk/topk_jobs.js';
import { makeKey } from '../store/protocol/keys.js';
import { RawPeer, startActor } from './helpers/actor_in_process.js';

const key = (i: number) => makeKey('t.p', Buffer.from(`ctx${i % 7}`), Buffer.from(`w${i}`));
const value = (i: number) => Buffer.from(`value ${i}`);

test('local writes and reads: a served fork goes to the database, committed; a fenced fork is left to the wire', async (t) => {
  const actor = await startActor(t);
  const client = await StoreClient.connect([actor.endpoint]);
  t.teardown(() => client.close());
  const write = localWrites(actor);
  const get = localGets(actor);
  const fork = (i: number) => actor.map.lookup(key(i)).fork;

  // Through a ForkBatchWriter, as the smoothing writes: every key lands, read back over the wire too.
  const writer = new ForkBatchWriter(client, { opsPerBatch: 16, local: write });
  for (let i = 0; i < 200; i++) writer.set(key(i), value(i));
  await writer.finish();
  const keys = Array.from({ length: 200 }, (_, i) => key(i));
  t.deepEqual(await client.multiGet(keys), keys.map((_, i) => value(i)));
  t.deepEqual(get(keys), keys.map((_, i) => value(i)));

  // A write settles after its group commits: nothing uncommitted is acknowledged.
  const settled = write([{ op: 'set', key: key(0), value: Buffer.from('again') }]);
  t.truthy(settled);
  t.true(actor.db.inTransaction, 'the write joined an open group');
  await settled;
  t.false(actor.db.inTransaction, 'settled once committed');
  t.deepEqual(await client.get(key(0)), Buffer.from('again'));

  // Not sets, or a fenced fork: not local.
  t.is(write([{ op: 'delete', key: key(1) }]), undefined);
  actor.ownership.fence(fork(2));
  t.is(write([{ op: 'set', key: key(2), value: Buffer.from('x') }]), undefined);
  const got = get([key(1), key(2)]);
  t.deepEqual(got?.[0], value(1));
  t.is(got?.[1], NOT_LOCAL, 'a fenced fork is read over the wire');
  actor.ownership.unfence(fork(2));
  t.deepEqual(await multiGetLocal(client, [key(1), key(2), key(999)], get), [value(1), value(2), undefined]);
});

test('held heads come back in the order added, across chunks', (t) => {
  const held = new HeldHeads('m');
  const head = (i: number) => Buffer.alloc(8 * (1 + (i % 32)), i & 255);
  const n = 40000; // ~5.5 MB: more than one 4 MiB chunk
  for (let i = 0; i < n; i++) held.add(key(i), head(i));
  t.is(held.rows, n);
  let i = 0;
  for (const [k, v] of held.entries()) {
    if (!k.equals(key(i)) || !v.equals(head(i))) return t.fail(`entry ${i} differs`);
    i++;
  }
  t.is(i, n);
  // byRouting: the same heads, by the keys' routing bytes, ties in the order added.
  const byRouting = [...held.byRouting()].map(([k, v]) => ({ routing: k.readUInt32BE(0), i: Number(/w(\d+)$/.exec(k.toString('latin1'))![1]), k, v }));
  t.is(byRouting.length, n);
  t.true(byRouting.every((e, j) => j === 0 || e.routing > byRouting[j - 1]!.routing || (e.routing === byRouting[j - 1]!.routing && e.i > byRouting[j - 1]!.i)), 'by routing, then as added');
  t.true(byRouting.every((e) => e.k.equals(key(e.i)) && e.v.equals(head(e.i))), 'each head with its own key');
  t.is(new Set(byRouting.map((e) => e.i)).size, n, 'every head once');
});

test('a codes pass asked for held heads this actor does not hold fails, saying to smooth again', async (t) => {
  const actor = await startActor(t);
  attachSmoothJobs(actor);
  const peer = new RawPeer(t, actor.endpoint);
  const reply = await peer.ask(TOPK_ENCODE, EncodeJobType.toBuffer({ model: 'm', bits: 8, centers: [0, -1], forks: [], held: true, heldLength: 2 }));
  t.not(reply.code, 'OK');
  t.regex(reply.message, /held .*gone .*smooth the model again/);
});
