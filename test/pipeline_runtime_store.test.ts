// The runtime writing through the real store sink into 2 real store actor processes (spawned and
// their forks spread by store_setup.ts): after a count worker is killed mid-run, and after the
// whole run is repeated without a checkpoint, the store holds exactly the corpus's counts.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { Coordinator } from '../pipeline/runtime/coordinator.js';
import { openStore } from '../pipeline/runtime/store_setup.js';
import { BUNDLED_TRAIN } from './helpers/paths.js';
import { expectedBatches, testPlan, tmpDir } from './helpers/runtime_plans.js';
import { differences, expectedStats, storedStats } from './helpers/runtime_store_check.js';

const MODEL = 'rtstore';
const ORDER = 3;

test('counts written through batchAs are exact after a killed count worker and after a repeated run (no double count)', async (t) => {
  const dir = tmpDir();
  const store = await openStore({ mode: 'spawn', dataDir: dir, replicas: 1, actors: [1, 2].map((i) => ({ id: `rt-store-${i}`, dataDir: path.join(dir, `rt-store-${i}`) })) });
  t.teardown(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  t.is(new Set([...store.client.map.entries.values()].map((e) => e.owner)).size, 2, 'the forks are spread over both actors');
  const files = [BUNDLED_TRAIN];
  const plan = testPlan({ model: MODEL, order: ORDER, inputs: files, batch: 100, splitWorkers: 2, countWorkers: 2, sink: { kind: 'store', endpoints: store.endpoints, model: MODEL } });
  const expectedRun = expectedBatches(files, 100);

  let acks = 0;
  let killed = false;
  const first = await new Coordinator(plan, {
    onEvent: (e, c) => {
      if (e.kind === 'ack' && ++acks === 3 && !killed) {
        killed = true;
        void c.pool.crash('count', e.worker);
      }
    },
  }).run();
  t.true(killed);
  t.is(first.stages.find((s) => s.name === 'count')!.restarts, 1);
  t.is(first.batches, expectedRun.batches.size);
  t.is(first.words, expectedRun.words);

  const expected = expectedStats(MODEL, ORDER, files);
  t.true(expected.raw.size > 10000 && expected.left.size > 10000, 'the corpus gives many keys to compare');
  const afterCrash = await storedStats(store.client, MODEL);
  t.deepEqual(differences(afterCrash, expected), { raw: [], left: [], first: [] }, 'RAW counters, LEFT and FIRST keys equal the corpus counts: no batch applied twice or lost');

  // The same batches again, no checkpoint: every write is a duplicate under its producer id.
  const again = await new Coordinator(plan).run();
  t.is(again.batches, expectedRun.batches.size);
  const afterRepeat = await storedStats(store.client, MODEL);
  t.deepEqual(differences(afterRepeat, expected), { raw: [], left: [], first: [] }, 'a repeated run changed nothing');
});
