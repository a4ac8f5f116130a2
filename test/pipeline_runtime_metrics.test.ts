// Live metrics and `pipeline tap` during a real `dbslm pipeline run` (real stage actor processes,
// 2 spawned store actors, the bundled corpus four times in batches of 100 lines, so counting lasts
// a few seconds): `metrics tail --json` (found through out/.dbslm-metrics in its cwd) prints rows
// for every stage and store actor and exits 0 when the run ends; the Prometheus endpoint (port 0:
// its URL printed and recorded) is scraped over HTTP during the run; `pipeline tap --stage split`
// prints SentenceBatches whose tokens are lines of the corpus. Then tap failing when nothing runs.
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { MetricsView } from '../schemas/metrics.js';
import { metricsRecordOf, startCli } from './helpers/cli_children.js';
import { BUNDLED_TRAIN, CLI } from './helpers/paths.js';
import { tmpDir } from './helpers/runtime_plans.js';

const exec = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `dbslm_stage_items_in_total` by stage, summed over workers, from Prometheus text. */
function itemsInByStage(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^dbslm_stage_items_in_total\{stage="([^"]+)",worker="\d+"\} (\S+)$/gm)) out.set(m[1]!, (out.get(m[1]!) ?? 0) + Number(m[2]));
  return out;
}

test.serial('during pipeline run: metrics tail --json has every stage and store actor and exits 0 at the end, Prometheus is scraped, tap prints split batches', async (t) => {
  const dir = tmpDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const corpusText = fs.readFileSync(BUNDLED_TRAIN, 'utf8').repeat(4);
  fs.writeFileSync(path.join(dir, 'corpus.txt'), corpusText);
  const corpusLines = new Set(corpusText.split('\n'));
  const lineCount = corpusText.split('\n').filter((l, i, all) => i < all.length - 1 || l !== '').length;
  const yaml = path.join(dir, 'watched.yaml');
  fs.writeFileSync(
    yaml,
    ['name: watched', 'inputs: [{ path: corpus.txt }]', 'order: 3', 'discount_fallback: true', 'stages:', '  read: { batch: 100 }', 'store:', '  actors: 2', '  data: store', 'metrics:', '  port: 0', ''].join('\n'),
  );

  const run = startCli(['pipeline', 'run', yaml, '--quiet', '--json'], dir);
  t.teardown(() => void run.proc.kill('SIGKILL'));
  let runEnded = false;
  void run.exited.then(() => (runEnded = true));
  const record = await metricsRecordOf(path.join(dir, 'out', '.dbslm-metrics'), run.proc.pid!, 30000);
  t.is(record.pipeline, 'watched');
  t.deepEqual(Object.keys(record.taps!).sort(), ['count', 'read', 'split']);

  const tail = startCli(['metrics', 'tail', '--json', '--interval', '500', '--timeout', '20000'], dir);
  t.teardown(() => void tail.proc.kill('SIGKILL'));

  // Prometheus over real HTTP while the run counts: every stage's items counter moves above 0.
  t.truthy(record.prometheus);
  t.true(run.stderr().includes(`Prometheus at ${record.prometheus}`), 'the Prometheus URL is printed as recorded');
  let scraped = new Map<string, number>();
  while (!runEnded && !['read', 'split', 'count'].every((s) => (scraped.get(s) ?? 0) > 0)) {
    const res = await fetch(record.prometheus!);
    t.is(res.status, 200);
    scraped = itemsInByStage(await res.text());
    await sleep(100);
  }
  t.false(runEnded, 'scraped while the run was running');
  for (const s of ['read', 'split', 'count']) t.true((scraped.get(s) ?? 0) > 0, `${s} items in > 0 in Prometheus`);

  // tap, found through the definition's name: three SentenceBatches leaving split.
  const tapped = await exec(process.execPath, [CLI, 'pipeline', 'tap', yaml, '--stage', 'split', '--limit', '3', '--timeout', '10000'], { cwd: dir, timeout: 30000 });
  const lines = tapped.stdout.trim().split('\n');
  t.is(lines.length, 3);
  for (const line of lines) {
    const m = JSON.parse(line) as { stage: string; type: string; bytes: string; message: { sentences: { tokens: string[] }[] } };
    t.is(m.stage, 'split');
    t.is(m.type, 'SentenceBatch');
    t.is(m.bytes, 'hex');
    t.true(m.message.sentences.length > 0);
    const first = m.message.sentences.find((s) => s.tokens.length > 0)!;
    t.true(corpusLines.has(first.tokens.join(' ')), `tapped tokens are a corpus line: ${first.tokens.join(' ')}`);
  }
  t.false(runEnded, 'tapped while the run was running');

  t.is(await run.exited, 0, run.stderr());
  t.is(await tail.exited, 0, tail.stderr());
  t.regex(tail.stderr(), /pipeline watched ended/);
  const views = tail.stdout().trim().split('\n').map((l) => JSON.parse(l) as MetricsView);
  t.true(views.length >= 2, 'tail printed while the run was going and at its end');
  // Before counting (the store opened, the model checked) only the store actors have rows; from
  // the plan on, every stage has one (planned workers show before their first snapshot).
  const names = ['stage:read', 'stage:split', 'stage:count', 'store:watched-store-1', 'store:watched-store-2'];
  const counting = views.findIndex((v) => v.rows.some((r) => r.kind === 'stage'));
  t.true(counting >= 0);
  for (const v of views.slice(0, counting)) t.deepEqual(v.rows.map((r) => `${r.kind}:${r.name}`), names.slice(3));
  for (const v of views.slice(counting)) t.deepEqual(v.rows.map((r) => `${r.kind}:${r.name}`), names);
  const last = views[views.length - 1]!;
  t.is(last.state, 'ended');
  const row = (name: string) => last.rows.find((r) => r.name === name)!;
  // Totals that follow from the corpus: read emits every line, split receives them, count one sentence per line.
  // A worker replaced during the run (a store actor fenced for a moment under load costs a count
  // restart) loses what it did since its last snapshot and its successor counts the redelivered
  // batches again: then the totals are not exact, and what is checked is that the restart shows.
  const summary = JSON.parse(run.stdout()) as { counting: { lines: number; stages: { name: string; restarts: number }[] } };
  const restarted = summary.counting.stages.filter((s) => s.restarts > 0);
  for (const s of restarted) t.true(row(s.name).restarts.total >= s.restarts, `${s.name}: ${s.restarts} restarts in the summary, ${row(s.name).restarts.total} in the metrics`);
  for (const name of ['read', 'split', 'count'].filter((n) => !restarted.some((s) => s.name === n))) {
    t.is(name === 'read' ? row(name).itemsOut.total : row(name).itemsIn.total, lineCount, `${name}'s items (no restart)`);
  }
  if (restarted.length > 0) t.log(`restarted during the run: ${restarted.map((s) => `${s.name} x${s.restarts}`).join(', ')}; their totals are not exact`);
  t.true(row('count').itemsOut.total > lineCount, 'count emits more n-gram increments than sentences');
  t.true(row('watched-store-1').itemsIn.total > 0 && row('watched-store-2').itemsIn.total > 0, 'both store actors served requests');
  t.true(row('count').busyMs > 0);
  t.not(row('count').p50Ms, null);
  t.is(summary.counting.lines, lineCount);
});

test.serial('pipeline tap fails within its timeout naming the stage and endpoint when nothing runs, and names a run of another pipeline', async (t) => {
  const dir = tmpDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const ep = `ipc://${path.join(dir, 'tap-split-0.sock')}`;
  const began = Date.now();
  const err = (await t.throwsAsync(exec(process.execPath, [CLI, 'pipeline', 'tap', '--connect', ep, '--stage', 'split', '--timeout', '500'], { cwd: dir, timeout: 20000 }))) as unknown as { code: number; stderr: string };
  t.is(err.code, 1);
  t.true(err.stderr.includes(`no message from stage split at ${ep} within 500 ms`), err.stderr);
  t.true(Date.now() - began < 10000);

  // The record of another pipeline's run: tap FILE refuses it, naming both.
  fs.mkdirSync(path.join(dir, 'out'));
  fs.writeFileSync(path.join(dir, 'out', '.dbslm-metrics'), JSON.stringify({ pipeline: 'other', tail: 'tcp://127.0.0.1:9', endpoint: 'tcp://127.0.0.1:9', prometheus: null, pid: 1, startedAt: '', taps: { split: [ep] } }));
  fs.writeFileSync(path.join(dir, 'mine.yaml'), ['name: mine', 'inputs: [{ path: c.txt }]', ''].join('\n'));
  fs.writeFileSync(path.join(dir, 'c.txt'), 'a b\n');
  const other = (await t.throwsAsync(exec(process.execPath, [CLI, 'pipeline', 'tap', 'mine.yaml', '--stage', 'split'], { cwd: dir, timeout: 20000 }))) as unknown as { code: number; stderr: string };
  t.is(other.code, 1);
  t.regex(other.stderr, /records a run of pipeline other, not mine/);
  const noStage = (await t.throwsAsync(exec(process.execPath, [CLI, 'pipeline', 'tap', '--stage', 'parse'], { cwd: dir, timeout: 20000 }))) as unknown as { code: number; stderr: string };
  t.regex(noStage.stderr, /no stage parse; its stages are split/);
});
