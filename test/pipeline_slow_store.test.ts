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

// Fails today: the run's store client is the one connectWithin makes in
// pipeline/runtime/store_setup.ts, with timeoutMs = --connect-timeout (default 2000 ms) and
// retries: 0, and smoothing and export use it for every request. Smoothing's scans try 6 times
// (stat_scan.ts: 6 x 2 s), its gets and batches once; so a get later than 2 s, a FENCED reply
// from a lease that lapsed for a moment, or a stall longer than ~12 s ends the run (exit 70).
// Seen in `npm run bench:pipeline` on a loaded machine, 2 runs of 3: "store request get to
// tcp://... got no reply within 2000 ms" in "interpolate 4", and "FENCED ... holds no lease" in
// "adjust". A store client's own defaults (10 s, 5 retries) ride out this 14 s stall; the connect
// timeout should bound the first contact only.
test.failing('a store actor stalled 14 s during smoothing: the run still finishes and exports the model', async (t) => {
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
