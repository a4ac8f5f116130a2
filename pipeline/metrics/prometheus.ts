// The metrics hub's view in Prometheus text format at http://127.0.0.1:PORT/metrics (prom-client,
// in a registry of its own, not the process-wide default one). Values are read from the hub when
// scraped, so a scrape always sees the newest snapshots. Stage series are labelled by stage and
// worker, store series by actor. Any other path is a 404.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import type { MetricsRow } from '../../schemas/metrics.js';
import type { CounterName, WorkerTotals } from './view.js';

/** What the exporter reads at each scrape. */
export interface PrometheusSource {
  workers(): WorkerTotals[];
  /** One row per stage (utilization and latency percentiles are per stage). */
  stageRows(): MetricsRow[];
  storeRows(): MetricsRow[];
}

const COUNTER_HELP: Record<CounterName, string> = {
  itemsIn: 'items received (lines, sentences or n-grams, by stage)',
  itemsOut: 'items emitted',
  bytesIn: 'bytes received',
  bytesOut: 'bytes emitted',
  errors: 'errors',
  restarts: 'restarts (of the stage inside the worker, and replacements of the worker)',
};
const SNAKE: Record<CounterName, string> = { itemsIn: 'items_in', itemsOut: 'items_out', bytesIn: 'bytes_in', bytesOut: 'bytes_out', errors: 'errors', restarts: 'restarts' };

/** A counter whose values are set from `values` at each scrape. */
function collectedCounter(registry: Registry, name: string, help: string, labelNames: string[], values: () => [Record<string, string>, number][]): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, v] of values()) this.inc(labels, Math.max(0, v));
    },
  });
}

function collectedGauge(registry: Registry, name: string, help: string, labelNames: string[], values: () => [Record<string, string>, number | null][]): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, v] of values()) if (v !== null) this.set(labels, v);
    },
  });
}

/** The registry of every dbslm pipeline metric, read from `source`. */
export function metricsRegistry(source: PrometheusSource): Registry {
  const registry = new Registry();
  const workerLabels = (w: WorkerTotals) => ({ stage: w.stage, worker: String(w.worker) });
  const actorLabels = (r: MetricsRow) => ({ actor: r.name });
  for (const c of Object.keys(SNAKE) as CounterName[]) {
    collectedCounter(registry, `dbslm_stage_${SNAKE[c]}_total`, `Stage ${COUNTER_HELP[c]}`, ['stage', 'worker'], () => source.workers().map((w) => [workerLabels(w), w[c]]));
    if (c !== 'restarts') {
      const storeHelp = c === 'itemsIn' ? 'requests received' : c === 'itemsOut' ? 'replies sent' : COUNTER_HELP[c];
      collectedCounter(registry, `dbslm_store_${SNAKE[c].replace('items_in', 'requests').replace('items_out', 'replies')}_total`, `Store actor ${storeHelp}`, ['actor'], () => source.storeRows().map((r) => [actorLabels(r), r[c].total]));
    }
  }
  collectedCounter(registry, 'dbslm_store_restarts_total', 'Store actor restarts seen by the hub', ['actor'], () => source.storeRows().map((r) => [actorLabels(r), r.restarts.total]));
  collectedCounter(registry, 'dbslm_stage_busy_seconds_total', 'Seconds spent inside the stage work (utilization: its rate)', ['stage', 'worker'], () => source.workers().map((w) => [workerLabels(w), w.busyMs / 1000]));
  collectedCounter(registry, 'dbslm_store_busy_seconds_total', 'Seconds the store actor event loop was busy', ['actor'], () => source.storeRows().map((r) => [actorLabels(r), r.busyMs / 1000]));
  collectedGauge(registry, 'dbslm_stage_in_flight', 'Batches taken in and not yet finished', ['stage', 'worker'], () => source.workers().map((w) => [workerLabels(w), w.inFlight]));
  collectedGauge(registry, 'dbslm_stage_queue_depth', 'Messages waiting for the worker', ['stage', 'worker'], () => source.workers().map((w) => [workerLabels(w), w.queueDepth]));
  collectedGauge(registry, 'dbslm_stage_utilization', 'Busy time / wall time over the last interval, averaged over the stage workers (0..1)', ['stage'], () => source.stageRows().map((r) => [{ stage: r.name }, r.utilization]));
  collectedGauge(registry, 'dbslm_stage_latency_seconds', 'Batch latency percentile since start (log buckets: at most 19% above)', ['stage', 'quantile'], () =>
    source.stageRows().flatMap((r): [Record<string, string>, number | null][] => [
      [{ stage: r.name, quantile: '0.5' }, r.p50Ms === null ? null : r.p50Ms / 1000],
      [{ stage: r.name, quantile: '0.99' }, r.p99Ms === null ? null : r.p99Ms / 1000],
    ]),
  );
  collectedGauge(registry, 'dbslm_store_in_flight', 'Requests received and not yet answered', ['actor'], () => source.storeRows().map((r) => [actorLabels(r), r.inFlight]));
  collectedGauge(registry, 'dbslm_store_queue_depth', 'Replies waiting to be sent plus increment batches waiting to be applied', ['actor'], () => source.storeRows().map((r) => [actorLabels(r), r.queueDepth]));
  collectedGauge(registry, 'dbslm_store_utilization', 'Event loop busy time / wall time over the last interval (0..1)', ['actor'], () => source.storeRows().map((r) => [actorLabels(r), r.utilization]));
  collectedGauge(registry, 'dbslm_store_up', '1 when the store actor answered the last metrics request', ['actor'], () => source.storeRows().map((r) => [actorLabels(r), r.up ? 1 : 0]));
  return registry;
}

export interface PrometheusServer {
  /** http://127.0.0.1:PORT/metrics */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serve `registry` on 127.0.0.1:`port` (0: any free port). Rejects naming the port when it is taken. */
export function servePrometheus(registry: Registry, port: number): Promise<PrometheusServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`metrics.port ${port}: cannot serve Prometheus metrics on 127.0.0.1:${port}: ${err.code === 'EADDRINUSE' ? 'the port is in use; choose another or 0 for any free port' : err.message}`)),
    );
    server.listen(port, '127.0.0.1', () => {
      const bound = (server.address() as AddressInfo).port;
      resolve({
        url: `http://127.0.0.1:${bound}/metrics`,
        port: bound,
        close: () =>
          new Promise((r) => {
            server.close(() => r());
            server.closeAllConnections(); // scrapers' keep-alive connections would hold close() open
          }),
      });
    });
  });
}
