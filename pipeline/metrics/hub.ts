// The coordinator's metrics hub. Stage actors publish snapshots to it (publisher.ts); it merges them
// by (stage, worker) and per stage (view.ts), asks the store actors for their row (store_rows.ts),
// and every interval publishes the merged view, with rates over the interval, on a PUB socket at
// its tail endpoint for `dbslm metrics tail`. With a port it also serves Prometheus (prometheus.ts).
// When the pipeline ends, `end()` publishes the view once more with state 'ended' so tails stop.
import path from 'node:path';
import zmq from 'zeromq';
import type { PipelineDefinition } from '../definition/definition.js';
import { decodeMetricsMessage, encodeMetricsMessage, type MetricsView } from '../../schemas/metrics.js';
import { defaultMetricsFile, writeMetricsFile } from './endpoint_file.js';
import { metricsRegistry, servePrometheus, type PrometheusServer } from './prometheus.js';
import { DEFAULT_METRICS_INTERVAL_MS } from './publisher.js';
import { StoreRows, type StoreActorRef } from './store_rows.js';
import { SnapshotMerge, withRates } from './view.js';

export interface HubOptions {
  pipeline: string;
  /** Where stage actors publish (bound here); default tcp://127.0.0.1:0. */
  endpoint?: string;
  /** Where the merged view is published for `metrics tail`; default tcp://127.0.0.1:0. */
  tailEndpoint?: string;
  /** Prometheus on 127.0.0.1:PORT (0: any free port); null or absent: none. */
  port?: number | null;
  intervalMs?: number;
  /** Store actors to show a row for. */
  stores?: readonly StoreActorRef[];
  /** Stage names in pipeline order (rows are shown so). */
  stageOrder?: readonly string[];
  /** Record the endpoints here (endpoint_file.ts); absent: not recorded. */
  endpointFile?: string;
  /** A snapshot that could not be read (another dbslm version?): reported once per distinct message. */
  onProblem?: (message: string) => void;
}

/**
 * The hub endpoint of a definition: metrics.endpoint, else an ipc socket in `runDir` (ipc
 * transport) or tcp on `host`: the address `pipeline run --listen` gives, which stages on other
 * hosts reach (the coordinator's own), or loopback.
 */
export function hubEndpointFor(definition: PipelineDefinition, runDir: string, host = '127.0.0.1'): string {
  if (definition.metrics.endpoint) return definition.metrics.endpoint;
  return definition.transport.kind === 'ipc' ? `ipc://${path.join(runDir, 'metrics.sock')}` : `tcp://${host}:0`;
}

/**
 * The hub options of a run of `definition`: its name, endpoint (hubEndpointFor), Prometheus port,
 * stage order, and the endpoints recorded in out/.dbslm-metrics under `cwd` for `metrics tail`.
 * `stores`: the store actors serving the run (spawned ones as `NAME-store-I`; joined ones by endpoint).
 */
export function hubOptionsFor(definition: PipelineDefinition, runDir: string, stores: readonly StoreActorRef[], cwd = process.cwd(), host?: string): HubOptions {
  return {
    pipeline: definition.name,
    endpoint: hubEndpointFor(definition, runDir, host),
    port: definition.metrics.port,
    stageOrder: definition.stages.map((s) => s.name),
    stores,
    endpointFile: defaultMetricsFile(cwd),
  };
}

/** How many times the ended view is sent, 100 ms apart: a tail that just connected still gets one. */
const ENDED_REPEATS = 3;

export class MetricsHub {
  private readonly merge = new SnapshotMerge();
  private readonly stores: StoreRows;
  private readonly subscriber = new zmq.Subscriber({ receiveHighWaterMark: 10000 });
  private readonly tail = new zmq.Publisher({ sendHighWaterMark: 16, linger: 1000 });
  private readonly problems = new Set<string>();
  private readonly intervalMs: number;
  private prometheus: PrometheusServer | null = null;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private last: MetricsView | null = null;
  private receiving: Promise<void> | null = null;
  private ended = false;
  private readonly startedAt = new Date().toISOString();
  private taps: Record<string, string[]> | undefined;
  endpoint = '';
  tailEndpoint = '';

  private constructor(private readonly opts: HubOptions) {
    this.intervalMs = opts.intervalMs ?? DEFAULT_METRICS_INTERVAL_MS;
    this.stores = new StoreRows(opts.stores ?? [], Math.max(this.intervalMs, 1000));
  }

  /** Bind both sockets (and the HTTP server), record the endpoints, and start the interval. */
  static async start(opts: HubOptions): Promise<MetricsHub> {
    const hub = new MetricsHub(opts);
    try {
      await hub.bind();
    } catch (err) {
      await hub.closeSockets();
      throw err;
    }
    return hub;
  }

  /** http://127.0.0.1:PORT/metrics, or null without a port. */
  get prometheusUrl(): string | null {
    return this.prometheus?.url ?? null;
  }

  /** The newest merged view (rates over the last interval). */
  view(): MetricsView {
    return this.last ?? { pipeline: this.opts.pipeline, state: 'running', atMs: Date.now(), rows: [] };
  }

  /** Take a view now (stores asked, snapshots merged) and publish it; the interval does this by itself. */
  tick(): Promise<void> {
    this.ticking ??= this.takeView('running').then((view) => {
      this.ticking = null;
      if (!this.ended) void this.tail.send(encodeMetricsMessage('MetricsView', view)).catch(() => undefined);
    });
    return this.ticking;
  }

  /** The pipeline ended: publish the final view as 'ended' (so tails exit 0), then close everything. */
  async end(): Promise<void> {
    if (this.ended) return;
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    await new Promise((r) => setTimeout(r, Math.min(this.intervalMs, 200))); // the stages' final snapshots arrive
    const view = await this.takeView('ended');
    this.ended = true;
    const message = encodeMetricsMessage('MetricsView', view);
    for (let i = 0; i < ENDED_REPEATS; i++) {
      await this.tail.send(message).catch(() => undefined);
      if (i < ENDED_REPEATS - 1) await new Promise((r) => setTimeout(r, 100));
    }
    await this.closeSockets();
  }

  /** The run's stage workers, shown (with zero totals) before their first snapshot arrives. */
  expectStages(stages: readonly { name: string; workers: number }[]): void {
    for (const s of stages) for (let w = 0; w < s.workers; w++) this.merge.expect(s.name, w);
  }

  /** Record the stages' tap endpoints (`pipeline tap`) beside the hub's in the endpoint file. */
  recordTaps(taps: Record<string, string[]>): void {
    this.taps = taps;
    this.record();
  }

  private record(): void {
    if (!this.opts.endpointFile) return;
    const taps = this.taps ? { taps: this.taps } : {};
    writeMetricsFile(this.opts.endpointFile, { pipeline: this.opts.pipeline, tail: this.tailEndpoint, endpoint: this.endpoint, prometheus: this.prometheusUrl, pid: process.pid, startedAt: this.startedAt, ...taps });
  }

  private async bind(): Promise<void> {
    this.subscriber.subscribe();
    await this.subscriber.bind(this.opts.endpoint ?? 'tcp://127.0.0.1:0');
    this.endpoint = this.subscriber.lastEndpoint ?? this.opts.endpoint!;
    await this.tail.bind(this.opts.tailEndpoint ?? 'tcp://127.0.0.1:0');
    this.tailEndpoint = this.tail.lastEndpoint ?? this.opts.tailEndpoint!;
    if (this.opts.port !== undefined && this.opts.port !== null) {
      const registry = metricsRegistry({
        workers: () => this.merge.workerTotals(),
        stageRows: () => this.view().rows.filter((r) => r.kind === 'stage'),
        storeRows: () => this.view().rows.filter((r) => r.kind === 'store'),
      });
      this.prometheus = await servePrometheus(registry, this.opts.port);
    }
    this.record();
    this.receiving = this.receive();
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  private async receive(): Promise<void> {
    try {
      for await (const [message] of this.subscriber) {
        try {
          this.merge.add(decodeMetricsMessage('StageSnapshot', message!));
        } catch (err) {
          const text = (err as Error).message;
          if (!this.problems.has(text)) {
            this.problems.add(text);
            (this.opts.onProblem ?? ((m: string) => process.stderr.write(`metrics hub: ${m}\n`)))(`a snapshot at ${this.endpoint} was dropped: ${text}`);
          }
        }
      }
    } catch {
      // the socket closed
    }
  }

  private async takeView(state: MetricsView['state']): Promise<MetricsView> {
    await this.stores.poll();
    const view: MetricsView = { pipeline: this.opts.pipeline, state, atMs: Date.now(), rows: [...this.merge.stageRows(this.opts.stageOrder), ...this.stores.rows()] };
    this.last = withRates(this.last, view);
    return this.last;
  }

  private async closeSockets(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.ended = true;
    this.stores.close();
    this.subscriber.close();
    this.tail.close();
    await this.receiving;
    await this.prometheus?.close();
  }
}
