// What a stage actor tells the metrics hub: a StageMetrics collector fed at the actor's few batch
// events, and the publisher that sends its snapshots (pipeline/metrics/). Per batch it does a map
// insert and delete and a few additions; nothing per item (an item count is an array's length).
//
// Figures (README "Metrics"):
//   - items in/out: lines of a LineBatch, sentences of a SentenceBatch, increments of a CountBatch,
//     1 for a ReadTask; bytes: the message as it arrived / left (the sink stage's CountBatch is
//     written, not sent: its key and value bytes);
//   - busy: wall time with at least one batch inside the stage operator (arrived and not yet
//     emitted by it; the source: a task being read). Waiting to send (backpressure) is not busy;
//   - latency: from a batch's arrival to its leaving (sent on, or written by the sink); for the
//     source, from the task's previous batch (or the task's arrival) to this one leaving;
//   - errors: bad lines a stage adds to a batch (ones it received are not counted again), and a
//     failure of the actor; in-flight: batches inside the operator; queue: inputs waiting for it.
import type { BadLine } from '../../schemas/pipeline.js';
import { MetricsPublisher } from '../metrics/publisher.js';
import { StageMetrics } from '../metrics/stage_metrics.js';
import type { ActorSpec } from './actor_spec.js';

interface Arrival {
  atMs: number;
  bad: number;
}

type Batch = { input?: number; offset?: number; bad?: BadLine[]; lines?: unknown; sentences?: unknown[]; keys?: Buffer; deltas?: number[] };

/** Items of a stage message (see the file comment). */
export function itemsOf(value: unknown): number {
  const v = value as Batch;
  if (Array.isArray(v.sentences)) return v.sentences.length;
  if (Array.isArray(v.deltas)) return v.deltas.length;
  if (Array.isArray(v.lines)) return v.lines.length;
  return 1;
}

/** Bytes a (packed) CountBatch carries to the store: its keys and 8 per delta. */
export function countBatchBytes(value: unknown): number {
  const v = value as Batch;
  return (v.keys?.length ?? 0) + 8 * (v.deltas?.length ?? 0);
}

export class ActorMetrics {
  readonly metrics: StageMetrics;
  private readonly publisher: MetricsPublisher | null;
  /** Non-source: batches inside the operator, by origin. */
  private readonly arrivals = new Map<string, Arrival>();
  /** Source: per input being read, when its last batch left the operator (or it arrived). */
  private readonly tasks = new Map<number, number>();
  private inside = 0;
  private since = performance.now();
  private readonly timer: NodeJS.Timeout | null;

  constructor(private readonly spec: ActorSpec) {
    this.metrics = new StageMetrics(spec.stage, spec.worker);
    this.publisher = spec.metrics ? new MetricsPublisher(this.metrics, { endpoint: spec.metrics.endpoint, intervalMs: spec.metrics.intervalMs }).start() : null;
    // Busy time is added as batches come and go; a stage busy on one long batch adds it here too.
    this.timer = this.publisher ? setInterval(() => this.account(0), Math.max(100, (spec.metrics?.intervalMs ?? 500) / 2)) : null;
    this.timer?.unref();
  }

  /** A message arrived from the socket (decoded `value`, `bytes` long). */
  received(value: unknown, bytes: number): void {
    this.metrics.received(itemsOf(value), bytes);
    const v = value as Batch;
    const now = performance.now();
    // A batch or task redelivered while its first copy is still inside is one batch inside.
    if (this.spec.source) {
      const known = this.tasks.has(v.input ?? -1);
      this.tasks.set(v.input ?? -1, now);
      if (!known) this.account(1);
      return;
    }
    const key = `${v.input}:${v.offset}`;
    const known = this.arrivals.has(key);
    this.arrivals.set(key, { atMs: now, bad: v.bad?.length ?? 0 });
    if (!known) this.account(1);
  }

  /** The operator emitted `value`; returns when its batch started (for its latency when it leaves). */
  produced(value: unknown): number {
    const v = value as Batch;
    const now = performance.now();
    if (this.spec.source) {
      const last = this.tasks.get(v.input ?? -1) ?? now;
      this.tasks.set(v.input ?? -1, now);
      this.errors(v.bad?.length ?? 0);
      return last;
    }
    const key = `${v.input}:${v.offset}`;
    const arrival = this.arrivals.get(key);
    if (!arrival) return now; // a second output of one batch: the first one ended it
    this.arrivals.delete(key);
    this.errors((v.bad?.length ?? 0) - arrival.bad);
    this.account(-1);
    return arrival.atMs;
  }

  /** Source: the task of `input` is exhausted. */
  taskDone(input: number): void {
    if (this.tasks.delete(input)) this.account(-1);
  }

  /** A batch that started at `startedMs` left: sent on (`bytes`), or written by the sink. */
  left(value: unknown, startedMs: number, bytes: number): void {
    this.metrics.emitted(itemsOf(value), bytes);
    this.metrics.latency(performance.now() - startedMs);
  }

  /** Inputs waiting for the operator. */
  queued(n: number): void {
    this.metrics.queueDepth(n);
  }

  errors(n = 1): void {
    if (n > 0) this.metrics.error(n);
  }

  /** Publish the final snapshot (it gets a moment to leave) and stop. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.account(0);
    await this.publisher?.close();
  }

  /** Adds the busy time since the last change, then changes the batches inside by `delta`. */
  private account(delta: number): void {
    const now = performance.now();
    if (this.inside > 0) this.metrics.busy(now - this.since);
    this.since = now;
    this.inside = Math.max(0, this.inside + delta);
    this.metrics.inFlight(this.inside);
  }
}
