// The runtime with test stages (test/helpers/runtime_stages/) on real worker threads and real
// ZeroMQ ipc sockets: source -> split x2 -> count (piscina pool) -> record sink. Every batch is
// acked once and the totals equal what the corpus holds, with or without a crash in the middle.
// Serial: each run starts five processes, and the machine is shared.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { Coordinator, type CountingSummary } from '../pipeline/runtime/coordinator.js';
import type { ActorEvent } from '../schemas/pipeline_control.js';
import { BUNDLED_TEST, BUNDLED_TRAIN } from './helpers/paths.js';
import { deliveries, expectedBatches, RECORD_SINK_URL, testPlan, tmpDir } from './helpers/runtime_plans.js';
import type { SplitTestConfig } from './helpers/runtime_stages/split_words.js';

const BATCH = 100;

function corpusFiles(dir: string): string[] {
  // Two inputs: the sample corpus and its held-out part, so batches of two inputs interleave.
  const a = BUNDLED_TRAIN;
  const b = path.join(dir, 'second.txt');
  fs.copyFileSync(BUNDLED_TEST, b);
  return [a, b];
}

interface RunOptions {
  crash?: SplitTestConfig['crash'];
  onEvent?: (e: ActorEvent, c: Coordinator) => void;
  host?: 'thread' | 'process';
  delayMs?: number;
  stallMs?: number;
  tcp?: boolean;
}

async function run(t: import('ava').ExecutionContext, opts: RunOptions = {}) {
  const dir = tmpDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const files = corpusFiles(dir);
  const sinkFile = path.join(dir, 'deliveries.txt');
  const notices: string[] = [];
  const plan = testPlan({ model: 'rt', order: 3, inputs: files, batch: BATCH, splitWorkers: 2, sink: { kind: 'module', url: RECORD_SINK_URL, config: { file: sinkFile } }, crash: opts.crash && { ...opts.crash, marker: path.join(dir, 'crashed') }, delayMs: opts.delayMs, stallMs: opts.stallMs });
  plan.host = opts.host ?? 'process';
  if (opts.tcp) plan.transport = { kind: 'tcp', dir: null };
  const progress: number[] = [];
  const summary: CountingSummary = await new Coordinator(plan, { onNotice: (l) => notices.push(l), onEvent: opts.onEvent, onProgress: (p) => progress.push(p.batches) }).run();
  return { summary, expected: expectedBatches(files, BATCH), delivered: deliveries(sinkFile), notices, dir, progress };
}

for (const host of ['process', 'thread'] as const) {
  test.serial(`a clean run moves every batch exactly once through a 3-stage chain with 2 middle workers (actors as ${host === 'process' ? 'processes' : 'threads'})`, async (t) => {
    // In flight = emitted and not yet acked, followed from the events themselves.
    const inFlight = new Set<string>();
    const acked = new Set<string>();
    let peak = 0;
    const { summary, expected, delivered, notices, progress } = await run(t, {
      host,
      onEvent: (e) => {
        const key = `${e.origin?.input} ${e.origin?.offset}`;
        if (e.kind === 'emitted' && !acked.has(key)) inFlight.add(key);
        if (e.kind === 'ack') {
          acked.add(key);
          inFlight.delete(key);
        }
        peak = Math.max(peak, inFlight.size);
      },
    });
    t.true(peak > 1 && peak <= 8, `at most 8 batches (the credit bound for 1 count worker) in flight, saw ${peak}`);
    t.is(summary.batches, expected.batches.size);
    t.is(summary.words, expected.words);
    t.is(summary.lines, expected.lines);
    t.deepEqual([...delivered.keys()].sort(), [...expected.batches.keys()].sort());
    t.true([...delivered.values()].every((n) => n === 1), 'a batch delivered twice in a clean run');
    t.deepEqual(notices, []);
    t.true(progress.length > 0 && progress.every((b) => b <= expected.batches.size), 'progress was reported');
    const split = summary.stages.find((s) => s.name === 'split')!;
    t.is(split.itemsIn, expected.batches.size, 'split workers together received every batch once');
    t.is(split.restarts, 0);
    t.is(summary.stages.find((s) => s.name === 'count')!.itemsOut, expected.batches.size);
    t.true(summary.stages.every((s) => s.maxRssKb > 0), 'every stage reported its peak RSS');
    t.is(summary.inFlight, 0);
  });
}

for (const mode of ['exit', 'throw', 'uncaught'] as const) {
  test.serial(`a split worker that crashes (${mode}) on a batch is restarted and every batch is acked once, totals as a clean run`, async (t) => {
    const expectedRun = expectedBatches([BUNDLED_TRAIN], BATCH);
    const crashAt = [...expectedRun.batches.keys()][5]!.split(' ')[1]!;
    const { summary, expected, delivered, notices, dir } = await run(t, { crash: { offset: Number(crashAt), mode, marker: '' } });
    t.true(fs.existsSync(path.join(dir, 'crashed')), 'the fault was injected');
    t.is(summary.stages.find((s) => s.name === 'split')!.restarts, 1);
    t.true(summary.redelivered >= 1, 'the crashed batch was redelivered');
    t.is(summary.batches, expected.batches.size);
    t.is(summary.words, expected.words);
    t.deepEqual([...delivered.keys()].sort(), [...expected.batches.keys()].sort(), 'every batch reached the sink');
    t.regex(notices.join('\n'), /stage split worker \d .*restarted \(1 of at most 5\)/);
  });
}

test.serial('a count worker terminated from outside mid-run is restarted and the totals are exact', async (t) => {
  let acks = 0;
  let terminated = false;
  const { summary, expected } = await run(t, {
    onEvent: (e, c) => {
      if (e.kind === 'ack' && ++acks === 4 && !terminated) {
        terminated = true;
        void c.pool.crash('count', 0);
      }
    },
  });
  t.true(terminated);
  t.is(summary.stages.find((s) => s.name === 'count')!.restarts, 1);
  t.is(summary.batches, expected.batches.size);
  t.is(summary.words, expected.words);
});

test.serial('a read actor killed mid-input is restarted: it re-reads the rest and redelivers what was in flight, totals exact', async (t) => {
  let acks = 0;
  let killed = false;
  const { summary, expected, delivered, notices } = await run(t, {
    delayMs: 40,
    onEvent: (e, c) => {
      if (e.kind === 'ack' && ++acks === 5 && !killed) {
        killed = true;
        void c.pool.crash('source', 0);
      }
    },
  });
  t.true(killed);
  t.is(summary.stages.find((s) => s.name === 'source')!.restarts, 1);
  t.is(summary.batches, expected.batches.size);
  t.is(summary.words, expected.words);
  t.deepEqual([...delivered.keys()].sort(), [...expected.batches.keys()].sort());
  t.regex(notices.join('\n'), /stage source worker 0 exited with code 137: restarted/);
});

test.serial('a batch lost without a crash is redelivered once nothing moved for stallMs', async (t) => {
  const expectedRun = expectedBatches([BUNDLED_TRAIN], BATCH);
  const lostAt = Number([...expectedRun.batches.keys()][3]!.split(' ')[1]);
  const { summary, expected, notices } = await run(t, { crash: { offset: lostAt, mode: 'drop', marker: '' }, stallMs: 1500 });
  t.regex(notices.join('\n'), /no progress for 1500 ms with \d+ batches in flight: redelivering them/);
  t.true(summary.redelivered >= 1);
  t.is(summary.batches, expected.batches.size);
  t.is(summary.words, expected.words);
  t.true(summary.stages.every((s) => s.restarts === 0));
});

test.serial('over tcp: endpoints on port 0 are bound, reported and connected, and a restarted worker rebinds its port', async (t) => {
  const expectedRun = expectedBatches([BUNDLED_TRAIN], BATCH);
  const crashAt = Number([...expectedRun.batches.keys()][4]!.split(' ')[1]);
  const ready: string[] = [];
  const { summary, expected } = await run(t, { tcp: true, crash: { offset: crashAt, mode: 'exit', marker: '' }, onEvent: (e) => e.kind === 'ready' && ready.push(`${e.stage}/${e.worker}/${e.incarnation} ${e.message}`) });
  t.true(ready.every((r) => /tcp:\/\/127\.0\.0\.1:[1-9]\d*$/.test(r)), ready.join('\n'));
  const restarted = ready.find((r) => / /.test(r) && r.split(' ')[0]!.endsWith('/1'))!;
  const first = ready.find((r) => r.startsWith(restarted.split('/').slice(0, 2).join('/') + '/0'))!;
  t.is(restarted.split(' ')[1], first.split(' ')[1], 'the restarted worker bound the port its first incarnation reported');
  t.is(summary.batches, expected.batches.size);
  t.is(summary.words, expected.words);
});
