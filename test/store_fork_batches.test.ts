// ForkBatchWriter (store/model/fork_batches.ts) against a real actor: every set and delete lands,
// values byte for byte (the ops are held packed and unpacked at send), and ops held back past
// maxBuffered leave at most maxInFlight batches at a time (plus the one fork that filled up
// since the last ready()), never every fork's at once; a key's ops keep their order in a batch.
import test from 'ava';
import { StoreClient } from '../store/client/client.js';
import { makeKey } from '../store/protocol/keys.js';
import { ForkBatchWriter } from '../store/model/fork_batches.js';
import { spawnActor } from './helpers/store_procs.js';

const N = 20000;
const keyOf = (i: number) => makeKey('fb', Buffer.from(`k${i}`), Buffer.alloc(0));
/** Values of varied lengths (empty ones too), so a wrong offset in the packed ops shows. */
const valueOf = (i: number) => Buffer.from(`v${i}:`.repeat(i % 7));

test('every op lands, and at most maxInFlight batches (+1 filled fork) are in flight', async (t) => {
  t.timeout(120000);
  const actor = await spawnActor(t, 'fork-batches');
  const client = await StoreClient.connect(actor.ep);
  t.teardown(() => client.close());

  // Count concurrent batches by wrapping the real client's method (it still sends them).
  let inFlight = 0;
  let most = 0;
  let batches = 0;
  const batch = client.batch.bind(client);
  client.batch = async (ops) => {
    inFlight++;
    batches++;
    most = Math.max(most, inFlight);
    try {
      return await batch(ops);
    } finally {
      inFlight--;
    }
  };
  const maxInFlight = 3;
  const writer = new ForkBatchWriter(client, { opsPerBatch: 64, maxBuffered: 2000, maxInFlight });
  for (let i = 0; i < N; i++) {
    writer.set(keyOf(i), valueOf(i));
    await writer.ready();
  }
  await writer.finish();
  t.is(writer.written, N);
  // Deletes by a second writer, once the sets are acknowledged (batches may arrive in any order).
  const deleter = new ForkBatchWriter(client, { opsPerBatch: 64, maxBuffered: 2000, maxInFlight });
  for (let i = 2; i < N; i += 5) {
    deleter.delete(keyOf(i));
    await deleter.ready();
  }
  await deleter.finish();
  t.is(deleter.written, N / 5);
  t.true(most <= maxInFlight + 1, `at most ${maxInFlight} + 1 batches in flight (saw ${most})`);
  t.true(batches > 2000 / 64, `the ops went in many batches (${batches})`);

  const values = await client.multiGet(Array.from({ length: N }, (_, i) => keyOf(i)));
  let wrong = 0;
  values.forEach((v, i) => {
    const deleted = i % 5 === 2;
    if (deleted ? v !== undefined : !(v instanceof Buffer && v.equals(valueOf(i)))) wrong++;
  });
  t.is(wrong, 0, 'every key holds its value, deleted keys are gone');

  // A batch goes in routing order, but a key's own ops keep theirs: set, delete, set again ends
  // with the last value; set then delete ends deleted (keys of one routing prefix: one fork).
  const again = new ForkBatchWriter(client, { opsPerBatch: 1000 }); // one batch
  const sameFork = (i: number) => makeKey('fb', Buffer.from('one fork'), Buffer.from(`r${i}`));
  for (let i = 0; i < 40; i++) {
    again.set(sameFork(i), Buffer.from('first'));
    again.delete(sameFork(i));
    if (i % 2 === 0) again.set(sameFork(i), valueOf(i));
  }
  await again.finish();
  const last = await client.multiGet(Array.from({ length: 40 }, (_, i) => sameFork(i)));
  t.deepEqual(last.map((v) => (v instanceof Buffer ? v.toString() : v)), Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? valueOf(i).toString() : undefined)), 'each key ends with its last op');
});
