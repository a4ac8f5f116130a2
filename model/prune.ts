// Count pruning as lmplz --prune: an n-gram of order k >= 2 whose raw count is at or below the
// threshold for k is dropped from the model. Pruning changes no adjusted count, no
// counts-of-counts, no discount and no denominator (lmplz's adjust_counts still counts pruned
// n-grams); the probability mass a pruned n-gram would have kept, a(hw) - D(a(hw)), goes to its
// context's backoff instead (interpolate.ts), so the model stays normalized.
//
// With non-decreasing thresholds and raw counts, the kept set is closed: a kept n-gram's context
// and suffix occur at least as often as it does, under a threshold no higher, so they are kept too
// and every kept n-gram can be scored and backed off from.
import type { NgramCounts } from './corpus_count.js';
import { InputError } from './errors.js';

const HINT = 'give one whole-number threshold per order, non-decreasing, starting with 0, e.g. --prune 0 1 1 1 1 (the last value applies to higher orders)';

/**
 * The thresholds of orders 1..order (index 0 unused) from the values given on the command line,
 * checked as lmplz checks them; null when nothing is pruned.
 */
export function pruneThresholds(values: readonly (string | number)[], order: number): number[] | null {
  if (values.length === 0) return null;
  const parsed = values.map((v) => {
    const s = String(v).trim();
    if (!/^\d+$/.test(s)) throw new InputError(`--prune: bad threshold "${v}": thresholds are whole numbers >= 0`, undefined, undefined, HINT);
    return Number(s);
  });
  if (parsed.length > order) {
    throw new InputError(`--prune: thresholds given for orders 1 through ${parsed.length} but the model has order ${order}`, undefined, undefined, HINT);
  }
  if (parsed[0] !== 0) {
    throw new InputError(`--prune: the unigram threshold must be 0 (unigrams are not pruned), got ${parsed[0]}`, undefined, undefined, HINT);
  }
  for (let k = 1; k < parsed.length; k++) {
    if (parsed[k] < parsed[k - 1]) {
      throw new InputError(
        `--prune: thresholds must be non-decreasing, got ${parsed[k]} for order ${k + 1} after ${parsed[k - 1]} for order ${k}`,
        undefined,
        undefined,
        'a lower threshold for a longer order would keep n-grams whose contexts are pruned; ' + HINT,
      );
    }
  }
  const out = [0];
  for (let k = 1; k <= order; k++) out.push(parsed[Math.min(k, parsed.length) - 1]);
  return out.some((t) => t > 0) ? out : null;
}

/** pruned[n] = 1 for the n-grams the thresholds drop (thresholds[k] for order k, index 0 unused). */
export function markPruned({ trie, raw }: NgramCounts, thresholds: readonly number[]): Uint8Array {
  const size = trie.size;
  const pruned = new Uint8Array(size);
  const order = trie.order;
  for (let n = 1; n < size; n++) {
    const k = order[n];
    if (k >= 2 && raw[n] <= thresholds[k]) pruned[n] = 1;
  }
  return pruned;
}
