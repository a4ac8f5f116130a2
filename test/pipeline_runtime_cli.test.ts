// `dbslm pipeline run` end to end through the real CLI, with the runtime's test stages
// (--stage-modules) and 2 spawned store actors: the summary's counts, the store's contents after
// the actors were stopped and reopened, and a second run that finds everything counted. A run
// killed mid-count and resumed is pipeline_chaos.test.ts's coordinator test (the same kill and
// rerun, checked by the exported ARPA, which depends on every stored count).
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { openStore } from '../pipeline/runtime/store_setup.js';
import { BUNDLED_TRAIN, CLI } from './helpers/paths.js';
import { expectedBatches, tmpDir } from './helpers/runtime_plans.js';
import { differences, expectedStats, storedStats } from './helpers/runtime_store_check.js';

const exec = promisify(execFile);
const STAGES = new URL('./helpers/runtime_stages/index.js', import.meta.url).href;

test.serial('pipeline run counts a YAML pipeline into spawned store actors, and a second run resumes with nothing left', async (t) => {
  const dir = tmpDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.copyFileSync(BUNDLED_TRAIN, path.join(dir, 'corpus.txt'));
  const yaml = path.join(dir, 'clirun.yaml');
  fs.writeFileSync(yaml, ['name: clirun', 'inputs: [{ path: corpus.txt }]', 'order: 3', 'stages:', '  read: { batch: 100 }', '  split: { workers: 2 }', 'store:', '  actors: 2', '  data: store', ''].join('\n'));
  const run = () => exec(process.execPath, [CLI, 'pipeline', 'run', yaml, '--json', '--stage-modules', STAGES], { timeout: 60000 });

  const first = await run();
  const out = JSON.parse(first.stdout) as { counting: { batches: number; words: number; lines: number; skipped: number }; smooth: { counts: number[] } | null; storeRss: { id: string; kb: number | null }[] };
  const summary = out.counting;
  const expected = expectedBatches([path.join(dir, 'corpus.txt')], 100);
  t.is(summary.words, expected.words);
  t.is(summary.lines, expected.lines);
  t.is(summary.batches, expected.batches.size);
  t.deepEqual(out.storeRss.map((s) => s.id), ['clirun-store-1', 'clirun-store-2']);
  t.true(out.storeRss.every((s) => (s.kb ?? 0) > 0), 'peak RSS read for each store actor');
  t.is(out.smooth?.counts.length, 3, 'the counts were smoothed into an order-3 model');

  // The model's training run says every input is counted: nothing is read again.
  const second = await run();
  const again = JSON.parse(second.stdout) as { counting: unknown; smooth: unknown };
  t.is(again.counting, null);
  t.is(again.smooth, null);
  t.regex(second.stderr, /every input was counted already/);

  const store = await openStore({ mode: 'spawn', dataDir: path.join(dir, 'store'), replicas: 1, actors: [1, 2].map((i) => ({ id: `clirun-store-${i}`, dataDir: path.join(dir, 'store', `clirun-store-${i}`) })) });
  t.teardown(() => store.close());
  const diff = differences(await storedStats(store.client, 'clirun'), expectedStats('clirun', 3, [path.join(dir, 'corpus.txt')]));
  t.deepEqual(diff, { raw: [], left: [], first: [] });
});

test.serial('pipeline run with a store.join endpoint that does not answer fails naming it', async (t) => {
  const dir = tmpDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'c.txt'), 'a b c\n');
  const yaml = path.join(dir, 'nostore.yaml');
  fs.writeFileSync(yaml, ['inputs: [{ path: c.txt }]', 'store:', '  join: [tcp://127.0.0.1:9]', ''].join('\n'));
  const err = await t.throwsAsync(exec(process.execPath, [CLI, 'pipeline', 'run', yaml, '--connect-timeout', '500', '--stage-modules', STAGES], { timeout: 30000 }));
  const e = err as unknown as { code: number; stderr: string };
  t.is(e.code, 1);
  t.regex(e.stderr, /tcp:\/\/127\.0\.0\.1:9.*within 500 ms/);
});
