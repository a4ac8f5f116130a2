// Resume: the coordinator (a child process) is killed halfway through counting into 2 real store
// actors; the same run again reads only what the checkpoint does not hold, and the store ends
// with exactly the counts of an uninterrupted run. Plus the checkpoint file's own rules.
import test from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Checkpoint, fingerprint } from '../pipeline/runtime/checkpoint.js';
import { openStore } from '../pipeline/runtime/store_setup.js';
import { BUNDLED_TRAIN } from './helpers/paths.js';
import { expectedBatches, testPlan, tmpDir } from './helpers/runtime_plans.js';
import { differences, expectedStats, storedStats } from './helpers/runtime_store_check.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'helpers', 'runtime_child.js');
const MODEL = 'rtresume';

interface ChildRun {
  lines: Record<string, unknown>[];
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Runs the coordinator child; with `killAt`, SIGKILLs it once it reports that many batches acked. */
function runChild(planFile: string, killAt?: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [CHILD, planFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: Record<string, unknown>[] = [];
    let buf = '';
    proc.stdout!.on('data', (d) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = JSON.parse(buf.slice(0, i)) as Record<string, unknown>;
        buf = buf.slice(i + 1);
        lines.push(line);
        if (killAt !== undefined && typeof line.batches === 'number' && line.batches >= killAt) proc.kill('SIGKILL');
      }
    });
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`the coordinator child did not end within 60 s: ${JSON.stringify(lines.slice(-3))}`));
    }, 60000);
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ lines, code, signal });
    });
  });
}

test('a coordinator killed halfway, run again, skips the committed batches and the store holds exactly the uninterrupted counts', async (t) => {
  const dir = tmpDir();
  const store = await openStore({ mode: 'spawn', dataDir: dir, replicas: 1, actors: [1, 2].map((i) => ({ id: `rr-store-${i}`, dataDir: path.join(dir, `rr-store-${i}`) })) });
  t.teardown(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const files = [BUNDLED_TRAIN];
  const checkpointFile = path.join(dir, `${MODEL}.checkpoint`);
  const plan = testPlan({
    model: MODEL,
    order: 3,
    inputs: files,
    batch: 100,
    splitWorkers: 2,
    sink: { kind: 'store', endpoints: store.endpoints, model: MODEL },
    delayMs: 60,
    checkpoint: { file: checkpointFile, fingerprint: fingerprint(files.map((p, input) => ({ path: p, input })), { order: 3, batch: 100 }) },
  });
  const planFile = path.join(dir, 'plan.json');
  fs.writeFileSync(planFile, JSON.stringify(plan));
  const total = expectedBatches(files, 100).batches.size;

  const killed = await runChild(planFile, Math.floor(total / 2));
  t.is(killed.signal, 'SIGKILL', 'the first run was killed, not finished');
  t.false(killed.lines.some((l) => 'summary' in l));
  const committed = fs.readFileSync(checkpointFile, 'utf8').split('\n').length - 2;
  t.true(committed >= Math.floor(total / 2) && committed < total, `checkpoint holds ${committed} of ${total} batches`);

  const resumed = await runChild(planFile);
  t.is(resumed.code, 0);
  const summary = resumed.lines.find((l) => 'summary' in l)!.summary as { batches: number; skipped: number };
  t.is(summary.skipped, committed);
  t.is(summary.batches, total - committed, 'the resumed run counted only what the checkpoint did not hold');
  t.true(resumed.lines.some((l) => typeof l.notice === 'string' && /resuming: \d+ batches committed/.test(l.notice)));

  const diff = differences(await storedStats(store.client, MODEL), expectedStats(MODEL, 3, files));
  t.deepEqual(diff, { raw: [], left: [], first: [] }, 'the store equals an uninterrupted run');
});

test('a checkpoint is resumed only under the same fingerprint, and a torn last line is not counted', (t) => {
  const dir = tmpDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'run.checkpoint');
  const input = path.join(dir, 'in.txt');
  fs.writeFileSync(input, 'a b\n');
  const fp = fingerprint([{ path: input, input: 0 }], { order: 3 });
  t.not(fp, fingerprint([{ path: input, input: 0 }], { order: 4 }), 'the order is part of the fingerprint');

  const first = new Checkpoint(file, fp);
  t.is(first.open().batches, 0);
  first.append(0, 0);
  first.append(0, 400);
  first.close();
  fs.appendFileSync(file, '0 8'); // killed mid-line

  const again = new Checkpoint(file, fp);
  t.deepEqual(again.open(), { committed: new Map([[0, [0, 400]]]), batches: 2, discarded: null, torn: true });
  again.append(0, 1200);
  again.close();
  t.deepEqual(new Checkpoint(file, fp).open().committed, new Map([[0, [0, 400, 1200]]]), 'a line after a torn one is read whole');

  fs.appendFileSync(input, 'c d\n'); // the input changed: size and mtime
  const changed = new Checkpoint(file, fingerprint([{ path: input, input: 0 }], { order: 3 })).open();
  t.is(changed.batches, 0);
  t.regex(changed.discarded ?? '', /is of another run .*starting afresh/);
  t.is(new Checkpoint(file, fingerprint([{ path: input, input: 0 }], { order: 3 })).open().batches, 0, 'the discarded checkpoint was started afresh');
});
