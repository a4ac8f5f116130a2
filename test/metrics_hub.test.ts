// Pipeline metrics end to end over real sockets: stage collectors publish through ZeroMQ to a hub,
// `dbslm metrics tail` runs as a child process, Prometheus is scraped over HTTP, and a real store
// actor process answers the hub's `metrics` requests.
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { launchActor } from '../cli/io/actor_process.js';
import { MetricsHub } from '../pipeline/metrics/hub.js';
import { MetricsPublisher } from '../pipeline/metrics/publisher.js';
import { StageMetrics } from '../pipeline/metrics/stage_metrics.js';
import { bucketOf, bucketUpperMs } from '../pipeline/metrics/histogram.js';
import type { MetricsRow, MetricsView } from '../schemas/metrics.js';
import { STORE_COMMANDS } from '../schemas/store.js';
import { Connection } from '../store/client/connection.js';
import { CLI } from './helpers/paths.js';
import { tmpDir } from './helpers/store_procs.js';

/** Polls `cond` every 20 ms until it holds; fails the test after `ms`. */
async function until(t: ExecutionContext, what: string, cond: () => boolean, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) t.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
function parsePrometheus(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

function sample(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === Object.keys(labels).length)?.value;
}

interface Child {
  lines: string[];
  stderr: () => string;
  exit: Promise<{ code: number | null; ms: number }>;
}

function dbslm(args: string[], cwd?: string): Child {
  const started = Date.now();
  const proc = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  proc.stderr.on('data', (d: Buffer) => (err += d));
  const exit = new Promise<{ code: number | null; ms: number }>((resolve) => proc.on('exit', (code) => resolve({ code, ms: Date.now() - started })));
  return { lines, stderr: () => err, exit };
}

const rowOf = (view: MetricsView, kind: MetricsRow['kind'], name: string) => view.rows.find((r) => r.kind === kind && r.name === name);

test('stage snapshots reach the hub over ZeroMQ; tail prints a JSON row per stage until the pipeline ends; Prometheus serves them', async (t) => {
  const dir = tmpDir();
  const endpointFile = path.join(dir, 'out', '.dbslm-metrics');
  const hub = await MetricsHub.start({
    pipeline: 'p1',
    endpoint: `ipc://${path.join(dir, 'metrics.sock')}`,
    tailEndpoint: `ipc://${path.join(dir, 'tail.sock')}`,
    port: 0,
    intervalMs: 100,
    stageOrder: ['split', 'count'],
    endpointFile,
  });
  t.teardown(() => hub.end());
  const recorded = JSON.parse(fs.readFileSync(endpointFile, 'utf8')) as { tail: string; prometheus: string | null };
  t.is(recorded.tail, hub.tailEndpoint);
  t.is(recorded.prometheus, hub.prometheusUrl);

  // split: one worker; count: two. Known amounts, so every figure below is checked exactly.
  const split = new StageMetrics('split', 0);
  const count = [new StageMetrics('count', 0), new StageMetrics('count', 1)];
  split.received(1000, 64_000);
  split.emitted(950, 50_000);
  split.error(2);
  for (let i = 0; i < 100; i++) split.latency(2);
  count.forEach((m, i) => {
    m.received(400 + i, 20_000);
    m.emitted(3000 * (i + 1), 90_000);
    m.queueDepth(3 + i);
    m.latency(40);
  });
  count[1]!.restarted();
  const publishers = [split, ...count].map((m) => new MetricsPublisher(m, { endpoint: hub.endpoint, intervalMs: 50 }).start());
  t.teardown(() => Promise.all(publishers.map((p) => p.close())).then(() => undefined));
  await until(t, 'all three workers in the hub view', () => rowOf(hub.view(), 'stage', 'count')?.workers === 2 && rowOf(hub.view(), 'stage', 'split') !== undefined);

  // Without --connect, tail finds the hub through out/.dbslm-metrics in its working directory.
  const tail = dbslm(['metrics', 'tail', '--json', '--interval', '100'], dir);
  await until(t, 'two JSON lines from tail', () => tail.lines.length >= 2, 15000);
  const line = JSON.parse(tail.lines[1]!) as MetricsView;
  t.is(line.pipeline, 'p1');
  t.is(line.state, 'running');
  t.deepEqual(
    line.rows.map((r) => `${r.kind}:${r.name}`),
    ['stage:split', 'stage:count'],
  );
  const splitRow = rowOf(line, 'stage', 'split')!;
  t.is(splitRow.itemsIn.total, 1000);
  t.is(splitRow.bytesIn.total, 64_000);
  t.is(splitRow.itemsOut.total, 950);
  t.is(splitRow.errors.total, 2);
  t.is(splitRow.itemsIn.rate, 0); // nothing changed between the two lines
  t.is(splitRow.p50Ms, bucketUpperMs(bucketOf(2)));
  const countRow = rowOf(line, 'stage', 'count')!;
  t.is(countRow.workers, 2);
  t.is(countRow.itemsIn.total, 801);
  t.is(countRow.itemsOut.total, 9000);
  t.is(countRow.queueDepth, 7);
  t.is(countRow.restarts.total, 1);
  t.is(countRow.p99Ms, bucketUpperMs(bucketOf(40)));

  // Prometheus, over real HTTP.
  const res = await fetch(hub.prometheusUrl!);
  t.is(res.status, 200);
  const samples = parsePrometheus(await res.text());
  t.is(sample(samples, 'dbslm_stage_items_in_total', { stage: 'count', worker: '0' }), 400);
  t.is(sample(samples, 'dbslm_stage_items_in_total', { stage: 'count', worker: '1' }), 401);
  t.is(sample(samples, 'dbslm_stage_items_out_total', { stage: 'count', worker: '1' }), 6000);
  t.is(sample(samples, 'dbslm_stage_bytes_in_total', { stage: 'split', worker: '0' }), 64_000);
  t.is(sample(samples, 'dbslm_stage_errors_total', { stage: 'split', worker: '0' }), 2);
  t.is(sample(samples, 'dbslm_stage_restarts_total', { stage: 'count', worker: '1' }), 1);
  t.is(sample(samples, 'dbslm_stage_queue_depth', { stage: 'count', worker: '1' }), 4);
  t.is(sample(samples, 'dbslm_stage_latency_seconds', { stage: 'split', quantile: '0.5' }), bucketUpperMs(bucketOf(2)) / 1000);
  t.is((await fetch(hub.prometheusUrl!.replace('/metrics', '/other'))).status, 404);

  // More work shows as a rate; then the pipeline ends and tail says so and exits 0.
  split.received(500, 1000);
  await until(t, 'the new total in a tail line', () => tail.lines.some((l) => (rowOf(JSON.parse(l) as MetricsView, 'stage', 'split')?.itemsIn.total ?? 0) === 1500));
  const moved = tail.lines.map((l) => JSON.parse(l) as MetricsView).find((v) => rowOf(v, 'stage', 'split')!.itemsIn.total === 1500)!;
  t.true(rowOf(moved, 'stage', 'split')!.itemsIn.rate > 0);
  await Promise.all(publishers.map((p) => p.close()));
  await hub.end();
  const { code } = await tail.exit;
  t.is(code, 0, tail.stderr());
  t.regex(tail.stderr(), /pipeline p1 ended/);
  t.is((JSON.parse(tail.lines.at(-1)!) as MetricsView).state, 'ended');
});

test('a store actor gets a row from its metrics command: requests, bytes, errors, in the view and in Prometheus', async (t) => {
  const actor = await launchActor({ id: 'm1' });
  t.teardown(() => actor.kill());
  const hub = await MetricsHub.start({ pipeline: 'p2', port: 0, intervalMs: 100, stores: [{ id: 'm1', endpoint: actor.endpoint }] });
  t.teardown(() => hub.end());
  const conn = new Connection(actor.endpoint);
  t.teardown(() => conn.close());
  for (const cmd of ['no-such-command', 'neither']) t.is((await conn.request(cmd, Buffer.alloc(0), 5000)).code, 'UNKNOWN_COMMAND');
  await until(t, 'the store row with both errors', () => rowOf(hub.view(), 'store', 'm1')?.errors.total === 2);
  const r = rowOf(hub.view(), 'store', 'm1')!;
  t.true(r.up);
  t.true(r.itemsIn.total >= 3, `requests ${r.itemsIn.total}`); // the two bad ones and the hub's own
  t.true(r.bytesIn.total > 0 && r.bytesOut.total > 0);
  const samples = parsePrometheus(await (await fetch(hub.prometheusUrl!)).text());
  t.is(sample(samples, 'dbslm_store_errors_total', { actor: 'm1' }), 2);
  t.is(sample(samples, 'dbslm_store_up', { actor: 'm1' }), 1);
  t.true(sample(samples, 'dbslm_store_requests_total', { actor: 'm1' })! >= 3);

  // A dead actor keeps its last totals and shows as down.
  await actor.kill();
  await until(t, 'the store row down', () => rowOf(hub.view(), 'store', 'm1')?.up === false);
  t.is(rowOf(hub.view(), 'store', 'm1')!.errors.total, 2);
});

test('the metrics command counts every request, its bytes and its errors exactly', async (t) => {
  const actor = await launchActor({ id: 'm2' });
  t.teardown(() => actor.kill());
  const conn = new Connection(actor.endpoint);
  t.teardown(() => conn.close());
  const metrics = async () => STORE_COMMANDS.metrics.decodeReply((await conn.request('metrics', STORE_COMMANDS.metrics.encodeRequest({}), 5000)).body);
  const before = await metrics();
  t.is(before.id, 'm2');
  for (let i = 0; i < 3; i++) t.is((await conn.request('ping', STORE_COMMANDS.ping.encodeRequest({}), 5000)).code, 'OK');
  t.is((await conn.request('bogus', Buffer.alloc(0), 5000)).code, 'UNKNOWN_COMMAND');
  const after = await metrics();
  t.is(after.requests - before.requests, 5); // 3 pings, the bogus one, and this metrics request
  t.is(after.errors - before.errors, 1);
  t.is(after.replies - before.replies, 5); // the previous metrics reply, 3 pings, bogus
  t.true(after.bytesIn > before.bytesIn && after.bytesOut > before.bytesOut);
  t.is(after.inFlight, 1); // this request itself: its reply is not sent yet
  t.true(after.busyMs > 0 && after.uptimeMs >= before.uptimeMs);
  t.is((await conn.request('metrics', Buffer.from([1, 2, 3]), 5000)).code, 'BAD_REQUEST');
});

test('tail against an endpoint nothing serves fails within its timeout, naming the endpoint', async (t) => {
  const endpoint = `ipc://${path.join(tmpDir(), 'nothing.sock')}`;
  const tail = dbslm(['metrics', 'tail', '--connect', endpoint, '--timeout', '700']);
  const { code, ms } = await tail.exit;
  t.is(code, 1);
  t.true(tail.stderr().includes(`no metrics hub answered at ${endpoint} within 700 ms`), tail.stderr());
  t.true(ms >= 700 && ms < 15000, `${ms} ms`);
  t.deepEqual(tail.lines, []);
  const bad = dbslm(['metrics', 'tail', '--connect', '127.0.0.1:5', '--timeout', '700']);
  t.is((await bad.exit).code, 1);
  t.regex(bad.stderr(), /--connect "127\.0\.0\.1:5" is not a ZeroMQ endpoint: it has no transport \(did you mean tcp:\/\/127\.0\.0\.1:5\?\)/);
});

// Stage actors are processes (pipeline/runtime: zeromq.js in worker threads can corrupt memory when
// a thread ends, zeromq.js#411), so the publishers here are child processes too.
test('publishers in stage processes: a replaced worker keeps its totals and counts a restart', async (t) => {
  const { fork } = await import('node:child_process');
  const script = fileURLToPath(new URL('./helpers/metrics_worker.js', import.meta.url));
  const hub = await MetricsHub.start({ pipeline: 'p3', intervalMs: 100 });
  t.teardown(() => hub.end());
  const start = async (worker: number) => {
    const w = fork(script, [JSON.stringify({ endpoint: hub.endpoint, stage: 'count', worker })], { stdio: 'inherit' });
    t.teardown(() => void w.kill('SIGKILL'));
    await new Promise((r) => w.once('message', r));
    return w;
  };
  const closed = (w: ReturnType<typeof fork>) => new Promise((r) => (w.exitCode !== null ? r(undefined) : w.once('exit', r)));
  const w0 = await start(0);
  const w1 = await start(1);
  w0.send({ work: { items: 100, bytes: 1000, busyMs: 5 } });
  w1.send({ work: { items: 10, bytes: 100, busyMs: 5 } });
  await until(t, 'both workers counted', () => rowOf(hub.view(), 'stage', 'count')?.itemsIn.total === 110);
  // Worker 1 ends and a new process takes its place: its counters start from 0, the row's do not.
  w1.send({ close: true });
  await closed(w1);
  const w1b = await start(1);
  w1b.send({ work: { items: 7, bytes: 70, busyMs: 5 } });
  await until(t, 'the replacement counted on top', () => rowOf(hub.view(), 'stage', 'count')?.itemsIn.total === 117);
  const r = rowOf(hub.view(), 'stage', 'count')!;
  t.is(r.workers, 2);
  t.is(r.restarts.total, 1);
  t.is(r.bytesOut.total, 1170);
  t.is(r.busyMs, 15);
  for (const w of [w0, w1b]) w.send({ close: true });
  await Promise.all([closed(w0), closed(w1b)]);
});
