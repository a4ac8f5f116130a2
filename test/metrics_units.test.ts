// The pure parts of pipeline metrics: number formatting for `metrics tail`, latency histogram
// percentiles, merging snapshots (a replaced worker keeps its totals) and rates between views.
import test from 'ava';
import { LATENCY_BUCKETS, type MetricsView, type StageSnapshot } from '../schemas/metrics.js';
import { formatCount, formatCounted, formatMs, formatPercent } from '../pipeline/metrics/format.js';
import { bucketOf, bucketUpperMs, LatencyHistogram, MIN_MS, RATIO } from '../pipeline/metrics/histogram.js';
import { StageMetrics } from '../pipeline/metrics/stage_metrics.js';
import { SnapshotMerge, withRates } from '../pipeline/metrics/view.js';

test('counts read with three significant digits and an SI suffix', (t) => {
  const cases: [number, string][] = [
    [0, '0'],
    [7, '7'],
    [999, '999'],
    [1000, '1.00k'],
    [1234, '1.23k'],
    [12_345, '12.3k'],
    [410_000, '410k'],
    [999_499, '999k'],
    [999_600, '1.00M'], // rounds up into the next suffix, never "1000k"
    [1_500_000, '1.50M'],
    [2.5e9, '2.50G'],
    [2.5, '2.5'],
    [0.25, '0.3'],
    [-1500, '-1.50k'],
    [Number.NaN, '-'],
  ];
  for (const [n, text] of cases) t.is(formatCount(n), text, String(n));
});

test('a cell is the total and its rate; bytes get a B; latency and utilization have units', (t) => {
  t.is(formatCounted({ total: 1_500_000, rate: 410_000 }), '1.50M (410k/s)');
  t.is(formatCounted({ total: 3_000_000, rate: 512 }, 'bytes'), '3.00MB (512B/s)');
  t.is(formatMs(0.7071), '0.71ms');
  t.is(formatMs(12.34), '12.3ms');
  t.is(formatMs(999.6), '1.00s');
  t.is(formatMs(1450), '1.45s');
  t.is(formatMs(null), '-');
  t.is(formatPercent(0.734), '73%');
  t.is(formatPercent(null), '-');
});

test('histogram buckets hold (upper(i-1), upper(i)], and extremes land in the end buckets', (t) => {
  for (let i = 1; i < LATENCY_BUCKETS - 1; i++) {
    t.is(bucketOf(bucketUpperMs(i)), i, `upper bound of ${i}`);
    t.is(bucketOf(bucketUpperMs(i) * 1.0001), i + 1, `just above ${i}`);
  }
  t.is(bucketOf(0), 0);
  t.is(bucketOf(-3), 0);
  t.is(bucketOf(Number.NaN), 0);
  t.is(bucketOf(MIN_MS), 0);
  t.is(bucketOf(1e15), LATENCY_BUCKETS - 1);
});

test('percentiles are within one bucket ratio above the exact value', (t) => {
  const h = new LatencyHistogram();
  t.is(h.percentile(0.5), null);
  // 1000 latencies spread from 0.1 ms to 100 ms (log-uniform), in a scrambled order.
  const values = Array.from({ length: 1000 }, (_, i) => 0.1 * 1000 ** (((i * 617) % 1000) / 999));
  for (const v of values) h.record(v);
  const sorted = [...values].sort((a, b) => a - b);
  for (const q of [0.5, 0.9, 0.99, 1]) {
    const exact = sorted[Math.ceil(q * sorted.length) - 1]!;
    const got = h.percentile(q)!;
    t.true(got >= exact && got <= exact * RATIO * (1 + 1e-9), `q=${q}: ${got} vs exact ${exact}`);
  }
});

function snapshotOf(m: StageMetrics, atMs: number): StageSnapshot {
  return { ...m.snapshot(), atMs };
}

test('snapshots merge per stage; a replaced worker keeps its totals and counts a restart', (t) => {
  const merge = new SnapshotMerge();
  const a = new StageMetrics('count', 0);
  const b = new StageMetrics('count', 1);
  const s = new StageMetrics('split', 0);
  a.received(100, 1000);
  a.emitted(90, 900);
  a.latency(1);
  a.busy(50);
  b.received(10, 100);
  b.error();
  b.latency(100);
  s.received(5, 50);
  s.restarted();
  for (const m of [a, b, s]) merge.add(snapshotOf(m, 1000));
  // Worker 1 of count is replaced: a new collector starts from 0.
  const b2 = new StageMetrics('count', 1);
  b2.received(3, 30);
  b2.inFlight(2);
  merge.add(snapshotOf(b2, 1500));
  merge.add(snapshotOf(b, 1400)); // a late snapshot of the replaced worker is ignored
  const rows = merge.stageRows(['split', 'count']);
  t.deepEqual(
    rows.map((r) => r.name),
    ['split', 'count'],
  );
  const count = rows[1]!;
  t.is(count.workers, 2);
  t.is(count.itemsIn.total, 113);
  t.is(count.bytesIn.total, 1130);
  t.is(count.itemsOut.total, 90);
  t.is(count.errors.total, 1);
  t.is(count.restarts.total, 1);
  t.is(count.inFlight, 2);
  t.is(count.busyMs, 50);
  t.is(count.p50Ms, bucketUpperMs(bucketOf(1)));
  t.is(count.p99Ms, bucketUpperMs(bucketOf(100)));
  t.is(rows[0]!.restarts.total, 1);
  const workers = merge.workerTotals();
  t.deepEqual(
    workers.map((w) => [w.stage, w.worker, w.itemsIn]),
    [
      ['count', 0, 100],
      ['count', 1, 13],
      ['split', 0, 5],
    ],
  );
});

test('rates are per second over the interval between views, utilization per worker', (t) => {
  const merge = new SnapshotMerge();
  const m0 = new StageMetrics('count', 0);
  const m1 = new StageMetrics('count', 1);
  merge.add(snapshotOf(m0, 0));
  merge.add(snapshotOf(m1, 0));
  const first: MetricsView = { pipeline: 'p', state: 'running', atMs: 10_000, rows: merge.stageRows() };
  t.is(withRates(null, first), first);
  t.is(first.rows[0]!.utilization, null);
  m0.received(1000, 4000);
  m0.busy(500);
  m1.received(1000, 4000);
  m1.busy(250);
  merge.add(snapshotOf(m0, 0));
  merge.add(snapshotOf(m1, 0));
  const second = withRates(first, { pipeline: 'p', state: 'running', atMs: 12_000, rows: merge.stageRows() });
  const r = second.rows[0]!;
  t.deepEqual(r.itemsIn, { total: 2000, rate: 1000 });
  t.deepEqual(r.bytesIn, { total: 8000, rate: 4000 });
  t.is(r.utilization, 750 / 2000 / 2);
  // A total that went down (a restarted store actor before the hub folded it) is rate 0, not negative.
  const down = withRates(second, { ...second, atMs: 13_000, rows: [{ ...r, itemsIn: { total: 10, rate: 0 } }] });
  t.is(down.rows[0]!.itemsIn.rate, 0);
});

test('a table row: stage name with its workers, each count as total (rate/s), a down store actor marked', async (t) => {
  const { rowCells, renderView, COLUMNS } = await import('../pipeline/metrics/table.js');
  const { row } = await import('../pipeline/metrics/view.js');
  const stage = row('stage', 'count', 2, { itemsIn: 1_500_000, itemsOut: 3_000_000, bytesIn: 2_000_000, bytesOut: 0, errors: 3, restarts: 1, busyMs: 0 }, { inFlight: 4, queueDepth: 12, p50Ms: 1.41, p99Ms: 45.3, up: true });
  stage.itemsIn.rate = 410_000;
  stage.utilization = 0.734;
  t.deepEqual(rowCells(stage), ['count x2', '1.50M (410k/s)', '3.00M (0/s)', '2.00MB (0B/s)', '0B (0B/s)', '3 (0/s)', '1', '4', '12', '1.41ms', '45.3ms', '73%']);
  t.is(rowCells(stage).length, COLUMNS.length);
  const store = row('store', 'kjv5-store-1', 1, { itemsIn: 10, itemsOut: 10, bytesIn: 0, bytesOut: 0, errors: 0, restarts: 0, busyMs: 0 }, { inFlight: 0, queueDepth: 0, p50Ms: null, p99Ms: null, up: false });
  t.is(rowCells(store)[0], 'store kjv5-store-1 (down)');
  t.is(rowCells(store)[9], '-');
  const screen = renderView({ pipeline: 'kjv5', state: 'running', atMs: Date.UTC(2026, 0, 1, 12, 34, 56), rows: [stage, store] }, 'tcp://127.0.0.1:7101');
  t.regex(screen, /^pipeline kjv5: running at 12:34:56 \(tcp:\/\/127\.0\.0\.1:7101\)/);
  t.true(screen.includes('1.50M (410k/s)') && screen.includes('store kjv5-store-1 (down)'));
});
