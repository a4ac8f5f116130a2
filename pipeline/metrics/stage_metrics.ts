// The metrics collector of one stage actor (one worker thread of a stage). The stage calls it as it
// works; the publisher (publisher.ts) takes a snapshot every interval. Every call on the hot path is
// a few additions to fields: nothing is allocated per item or per batch (the latency histogram is
// allocated once), so a stage can report every batch.
import { randomBytes } from 'node:crypto';
import type { StageSnapshot } from '../../schemas/metrics.js';
import { LatencyHistogram } from './histogram.js';

export class StageMetrics {
  /** Random per collector: the hub tells a replaced worker (new totals from 0) from a running one. */
  readonly incarnation = randomBytes(6).toString('hex');
  private itemsIn = 0;
  private bytesIn = 0;
  private itemsOut = 0;
  private bytesOut = 0;
  private errors = 0;
  private restarts = 0;
  private inFlightNow = 0;
  private queueDepthNow = 0;
  private busyMs = 0;
  private readonly latencies = new LatencyHistogram();

  constructor(
    readonly stage: string,
    readonly worker: number,
  ) {}

  /** A batch of `items` (lines, sentences, n-grams) and `bytes` arrived. */
  received(items: number, bytes: number): void {
    this.itemsIn += items;
    this.bytesIn += bytes;
  }

  /** A batch of `items` and `bytes` left for the next stage (or the store). */
  emitted(items: number, bytes: number): void {
    this.itemsOut += items;
    this.bytesOut += bytes;
  }

  /** A batch or item failed (skipped, or retried). */
  error(n = 1): void {
    this.errors += n;
  }

  /** The stage restarted its work inside this worker (a replaced worker thread is a new collector, counted by the hub). */
  restarted(): void {
    this.restarts++;
  }

  /** Batches taken in and not yet finished. */
  inFlight(n: number): void {
    this.inFlightNow = n;
  }

  /** Messages waiting for this worker (its input queue). */
  queueDepth(n: number): void {
    this.queueDepthNow = n;
  }

  /** Time spent inside the stage's work, in ms (the rest is waiting: utilization = busy / wall). */
  busy(ms: number): void {
    if (ms > 0) this.busyMs += ms;
  }

  /** One batch took `ms` from arrival to done. */
  latency(ms: number): void {
    this.latencies.record(ms);
  }

  /** A plain record of the totals so far (allocates: once per interval, not per item). */
  snapshot(final = false): StageSnapshot {
    return {
      stage: this.stage,
      worker: this.worker,
      incarnation: this.incarnation,
      atMs: Date.now(),
      itemsIn: this.itemsIn,
      bytesIn: this.bytesIn,
      itemsOut: this.itemsOut,
      bytesOut: this.bytesOut,
      errors: this.errors,
      restarts: this.restarts,
      inFlight: this.inFlightNow,
      queueDepth: this.queueDepthNow,
      busyMs: this.busyMs,
      latency: Array.from(this.latencies.counts),
      final,
    };
  }
}
