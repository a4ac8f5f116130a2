// Batch latencies in a fixed set of log-spaced buckets: bounded memory whatever the run's length,
// one Math.log per batch, and histograms of several workers merge by adding counts (the hub sums a
// stage's workers, then reads its percentiles). Bucket i holds latencies in (upper(i-1), upper(i)]
// with upper(i) = MIN_MS * RATIO^i; a percentile is reported as its bucket's upper bound, so it is
// at most RATIO (19%) above the true value. Bucket 0 holds everything <= MIN_MS, the last bucket
// everything above the one before it.
import { LATENCY_BUCKETS } from '../../schemas/metrics.js';

/** Upper bound of bucket 0, in milliseconds. */
export const MIN_MS = 0.01;
/** Ratio between consecutive bucket bounds: 64 buckets of sqrt(2) reach 0.01 ms * 2^31.5, about 9 hours. */
export const RATIO = Math.SQRT2;
const LOG_RATIO = Math.log(RATIO);

/** Upper bound of bucket `i`, in milliseconds. */
export function bucketUpperMs(i: number): number {
  return MIN_MS * RATIO ** i;
}

/** The bucket a latency of `ms` falls into. */
export function bucketOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0; // also NaN and negatives: a clock step must not throw on the hot path
  // The epsilon keeps an exact bound (ms = upper(i)) in bucket i despite rounding in log.
  const i = Math.ceil(Math.log(ms / MIN_MS) / LOG_RATIO - 1e-9);
  return i >= LATENCY_BUCKETS ? LATENCY_BUCKETS - 1 : i;
}

/**
 * The `q` quantile (0 < q <= 1) of a histogram given as counts per bucket: the upper bound of the
 * bucket holding the ceil(q * n)-th smallest sample. null when empty.
 */
export function percentileMs(counts: ArrayLike<number>, q: number): number | null {
  let n = 0;
  for (let i = 0; i < counts.length; i++) n += counts[i]!;
  if (n === 0) return null;
  const rank = Math.max(1, Math.ceil(q * n));
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i]!;
    if (seen >= rank) return bucketUpperMs(i);
  }
  return bucketUpperMs(counts.length - 1);
}

/** Adds `from` into `into` bucket by bucket (both LATENCY_BUCKETS long). */
export function addCounts(into: number[], from: ArrayLike<number>): number[] {
  for (let i = 0; i < into.length && i < from.length; i++) into[i]! += from[i]!;
  return into;
}

export class LatencyHistogram {
  /** Counts per bucket, allocated once. */
  readonly counts = new Float64Array(LATENCY_BUCKETS);

  record(ms: number): void {
    this.counts[bucketOf(ms)]!++;
  }

  percentile(q: number): number | null {
    return percentileMs(this.counts, q);
  }
}
