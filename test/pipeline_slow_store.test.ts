// Acceptance: a store that stalls for some seconds after counting (SIGSTOP, then SIGCONT: what a
// loaded 2-core machine does to a store actor now and then) must slow the run down, not fail it.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { startActor } from './helpers/cluster_procs.js';
import { BUNDLED_TRAIN } from './helpers/paths.js';
import { acceptDir, sleep, startCli, writePipeline } from './helpers/pipeline_runs.js';

const dir = acceptDir();
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));

// The run's own store client waits 30 s per request and retries (store_setup.ts); smoothing's
// per-actor jobs wait for their actor as long as it takes: a stall of 14 s slows the run only.
// (Before, the client had --connect-timeout's 2 s and no retries: one late reply ended the run.)
test('a store actor stalled 14 s during smoothing: the run still finishes and exports the model', async (t) => {
  const actor = await startActor(t, 'slow-1', { dir: path.join(dir, 'slow-1') });
  const yaml = writePipeline(dir, 'slow', [BUNDLED_TRAIN], ['store:', `  join: [${JSON.stringify(actor.ep)}]`]);
  const { proc, done } = startCli(['pipeline', 'run', yaml, '--json']);
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  // Counting is over once smoothing logs its first phase.
  while (!/slow: adjust/.test(stderr) && proc.exitCode === null) await sleep(10);
  actor.proc.kill('SIGSTOP');
  await sleep(14000);
  actor.proc.kill('SIGCONT');
  const r = await done;
  t.is(r.code, 0, r.stderr);
  t.true(fs.existsSync(path.join(dir, 'slow.arpa')));
});
