// Pure merging of what the hub hears: stage snapshots by (stage, worker), summed per stage, and the
// rates between two views. The same rate function serves the hub (between its intervals) and
// `metrics tail` (between the lines it prints, when its interval differs).
//
// Totals never go back: a worker that is replaced (a snapshot of a new incarnation) starts its
// counters from 0, so the old incarnation's totals are kept as a base under the new ones, and the
// replacement is counted as a restart.
import type { Counted, MetricsRow, MetricsView, StageSnapshot } from '../../schemas/metrics.js';
import { LATENCY_BUCKETS } from '../../schemas/metrics.js';
import { addCounts, percentileMs } from './histogram.js';

/** The cumulative counters of a snapshot or a row. */
export const COUNTERS = ['itemsIn', 'itemsOut', 'bytesIn', 'bytesOut', 'errors', 'restarts'] as const;
export type CounterName = (typeof COUNTERS)[number];
export type Totals = Record<CounterName, number> & { busyMs: number; latency: number[] };

/** The incarnation of a planned worker not heard from yet (collectors' are random hex). */
const PLANNED = '';

const zeroTotals = (): Totals => ({ itemsIn: 0, itemsOut: 0, bytesIn: 0, bytesOut: 0, errors: 0, restarts: 0, busyMs: 0, latency: new Array<number>(LATENCY_BUCKETS).fill(0) });

function addTotals(into: Totals, from: Totals | StageSnapshot): Totals {
  for (const c of COUNTERS) into[c] += from[c];
  into.busyMs += from.busyMs;
  addCounts(into.latency, from.latency);
  return into;
}

/** One worker of one stage: its totals across incarnations, and its current gauges. */
export interface WorkerTotals extends Totals {
  stage: string;
  worker: number;
  inFlight: number;
  queueDepth: number;
  /** It sent its final snapshot. */
  final: boolean;
}

interface WorkerState {
  latest: StageSnapshot;
  /** Totals of the incarnations before `latest`'s. */
  base: Totals;
  retired: Set<string>;
}

export class SnapshotMerge {
  private readonly workers = new Map<string, WorkerState>();

  /**
   * A planned worker, shown with zero totals until it reports (so a view has a row for every stage
   * of the run from its start); its first real snapshot replaces it without counting a restart.
   */
  expect(stage: string, worker: number): void {
    const key = `${stage}\u0000${worker}`;
    if (this.workers.has(key)) return;
    const z = zeroTotals();
    this.workers.set(key, { latest: { ...z, stage, worker, incarnation: PLANNED, atMs: Date.now(), inFlight: 0, queueDepth: 0, final: false }, base: zeroTotals(), retired: new Set() });
  }

  add(s: StageSnapshot): void {
    const key = `${s.stage}\u0000${s.worker}`;
    const state = this.workers.get(key);
    if (!state || state.latest.incarnation === PLANNED) {
      this.workers.set(key, { latest: s, base: zeroTotals(), retired: new Set() });
      return;
    }
    if (s.incarnation === state.latest.incarnation) {
      state.latest = s;
      return;
    }
    if (state.retired.has(s.incarnation)) return; // a late snapshot of a worker already replaced
    addTotals(state.base, state.latest);
    state.base.restarts += 1;
    state.retired.add(state.latest.incarnation);
    state.latest = s;
  }

  /** Every worker heard from, in (stage, worker) order. */
  workerTotals(): WorkerTotals[] {
    const out: WorkerTotals[] = [];
    for (const { latest, base } of this.workers.values()) {
      const totals = addTotals(addTotals(zeroTotals(), base), latest);
      out.push({ ...totals, stage: latest.stage, worker: latest.worker, inFlight: latest.inFlight, queueDepth: latest.queueDepth, final: latest.final });
    }
    return out.sort((a, b) => (a.stage < b.stage ? -1 : a.stage > b.stage ? 1 : a.worker - b.worker));
  }

  /** One row per stage, its workers summed; rates 0 (see withRates). */
  stageRows(stageOrder: readonly string[] = []): MetricsRow[] {
    const byStage = new Map<string, { totals: Totals; workers: number; inFlight: number; queueDepth: number }>();
    for (const w of this.workerTotals()) {
      const s = byStage.get(w.stage) ?? { totals: zeroTotals(), workers: 0, inFlight: 0, queueDepth: 0 };
      addTotals(s.totals, w);
      s.workers++;
      s.inFlight += w.inFlight;
      s.queueDepth += w.queueDepth;
      byStage.set(w.stage, s);
    }
    // Stages in the pipeline's order when given, others after them by name.
    const rank = (name: string) => {
      const i = stageOrder.indexOf(name);
      return i < 0 ? stageOrder.length : i;
    };
    const names = [...byStage.keys()].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
    return names.map((name) => {
      const s = byStage.get(name)!;
      return row('stage', name, s.workers, s.totals, { inFlight: s.inFlight, queueDepth: s.queueDepth, p50Ms: percentileMs(s.totals.latency, 0.5), p99Ms: percentileMs(s.totals.latency, 0.99), up: true });
    });
  }
}

const counted = (total: number): Counted => ({ total, rate: 0 });

/** A row with rates 0 and no utilization yet (withRates fills them). */
export function row(
  kind: MetricsRow['kind'],
  name: string,
  workers: number,
  totals: Record<CounterName, number> & { busyMs: number },
  rest: Pick<MetricsRow, 'inFlight' | 'queueDepth' | 'p50Ms' | 'p99Ms' | 'up'>,
): MetricsRow {
  return {
    kind,
    name,
    workers,
    itemsIn: counted(totals.itemsIn),
    itemsOut: counted(totals.itemsOut),
    bytesIn: counted(totals.bytesIn),
    bytesOut: counted(totals.bytesOut),
    errors: counted(totals.errors),
    restarts: counted(totals.restarts),
    busyMs: totals.busyMs,
    utilization: null,
    ...rest,
  };
}

/**
 * `cur` with each row's rates per second and utilization taken against the same row of `prev`
 * (matched by kind and name). A row new since `prev`, or no `prev`, keeps rate 0 and utilization
 * null. A total that went down (a store actor restarted) gives rate 0, not a negative one.
 */
export function withRates(prev: MetricsView | null, cur: MetricsView): MetricsView {
  const dtMs = prev ? cur.atMs - prev.atMs : 0;
  if (!prev || dtMs <= 0) return cur;
  const before = new Map(prev.rows.map((r) => [`${r.kind}:${r.name}`, r]));
  const perSecond = (now: number, then: number) => (Math.max(0, now - then) * 1000) / dtMs;
  const rows = cur.rows.map((r): MetricsRow => {
    const p = before.get(`${r.kind}:${r.name}`);
    if (!p) return r;
    const out: MetricsRow = { ...r };
    for (const c of COUNTERS) out[c] = { total: r[c].total, rate: perSecond(r[c].total, p[c].total) };
    // Averaged over workers, and capped at 1: busy time is reported when a batch ends, so one
    // interval can hold a long batch's whole time.
    out.utilization = Math.min(1, perSecond(r.busyMs, p.busyMs) / 1000 / Math.max(1, r.workers));
    return out;
  });
  return { ...cur, rows };
}
