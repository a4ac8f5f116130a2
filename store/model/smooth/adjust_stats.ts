// Adjusted counts, counts-of-counts and follower statistics from `<model>.stat` (KenLM's
// adjust_counts, as model/adjust_counts.ts computes it in-process): one pass over the given forks.
// For each context range h, with k = |h| + 1 the order of its followers:
//
//   a(hw) = 0                  for the unigrams <s> and <unk> (never predicted from counts)
//         = RAW count          when k = order or h starts with <s> (no left extension exists)
//         = LEFT keys of hw    otherwise (distinct words seen before hw)
//
// The counts-of-counts t1..t4 per order are returned for the driver to sum over forks. For a
// non-empty h, its follower statistics (s(h), n1, n2, n3+) go to the STATS key of h, which lies in
// the range of h's own context (another fork): the interpolate phase reads a backoff's inputs in
// the same range as the n-gram it belongs to. STATS writes are sets, so a rerun is harmless.
import { BOS_TOKEN, UNK_TOKEN } from '../../../model/vocab.js';
import type { StoreClient } from '../../client/client.js';
import { ForkBatchWriter, type LocalBatchWriter } from '../fork_batches.js';
import { encodeContextStats, statFamily, statsKeyOfPrefix, type ContextStats } from '../stat_keys.js';
import { ContextRangeReader, type ContextRange, type Follower } from './context_ranges.js';
import { allForks, eachFork, scanRange, type LocalGetter, type LocalPageReader } from './stat_scan.js';

export interface PhaseOptions {
  /** Forks scanned at once (each with its own reader); 2 by default. */
  forksAtOnce?: number;
  /** Called with the number of context ranges done so far. */
  onProgress?: (done: number) => void;
  /** Scan pages of the own actor's forks from its database (smooth_jobs.ts). */
  local?: LocalPageReader;
  /** Write the own actor's forks' keys into its database (smooth_jobs.ts). */
  localWrite?: LocalBatchWriter;
  /** Read the own actor's forks' keys from its database (smooth_jobs.ts). */
  localGet?: LocalGetter;
}

export interface AdjustOptions extends PhaseOptions {
  /** Sees every context range with its n-gram followers and their adjusted counts (order_shares.ts OrderSplit keeps them for the interpolation). */
  onRange?: (k: number, range: ContextRange, followers: readonly Follower[], a: Float64Array) => void;
}

/** a(hw) of follower `f` of context `context` in a model of `order` (see the header). */
export function adjustedCount(order: number, context: readonly string[], f: Follower): number {
  const k = context.length + 1;
  if (k === 1 && (f.word === BOS_TOKEN || f.word === UNK_TOKEN)) return 0;
  const raw = k === order || context[0] === BOS_TOKEN;
  const a = raw ? f.raw : f.left;
  if (!a) {
    const ngram = [...context, f.word].join(' ');
    throw new Error(
      raw
        ? `the training statistics have no RAW count for "${ngram}" (LEFT keys: ${f.left}); they are incomplete or were counted for another order: count the text again into a fresh model`
        : `the training statistics have no LEFT key for "${ngram}" (RAW: ${f.raw ?? 'none'}); they are incomplete or were counted for another order: count the text again into a fresh model`,
    );
  }
  return a;
}

/** Whether `f` is an n-gram (has counts) rather than a key left only for its STATS or FIRST. */
export function isNgram(f: Follower): boolean {
  return f.raw !== undefined || f.left > 0;
}

/** s(h), n1, n2, n3+ over the followers' adjusted counts `a` (zeros left out, as in-process). */
export function followerStats(adjusted: ArrayLike<number>): ContextStats {
  const s: ContextStats = { total: 0, n1: 0, n2: 0, n3plus: 0 };
  for (let i = 0; i < adjusted.length; i++) {
    const a = adjusted[i]!;
    if (a <= 0) continue;
    s.total += a;
    if (a === 1) s.n1++;
    else if (a === 2) s.n2++;
    else s.n3plus++;
  }
  return s;
}

/** The adjusted counts of a range's n-gram followers, in follower order; non-n-gram keys are left out. */
export function adjustedCounts(order: number, range: ContextRange): { followers: Follower[]; a: Float64Array } {
  const followers = range.followers.filter(isNgram);
  const a = new Float64Array(followers.length);
  followers.forEach((f, i) => (a[i] = adjustedCount(order, range.context, f)));
  return { followers, a };
}

/**
 * One pass over `forks` (all by default): writes every non-empty context's STATS key and resolves
 * with the counts-of-counts of these forks, countsOfCounts[k][j] for k = 1..order, j = 1..4;
 * `opts.onRange` sees every range as it goes.
 */
export async function adjustStats(client: StoreClient, model: string, order: number, forks: readonly string[] = allForks(client), opts: AdjustOptions = {}): Promise<number[][]> {
  const countsOfCounts = Array.from({ length: order + 1 }, () => [0, 0, 0, 0, 0]);
  const writer = new ForkBatchWriter(client, { local: opts.localWrite });
  let ranges = 0;
  const onRange = async (range: ContextRange): Promise<void> => {
    const k = range.context.length + 1;
    if (k > order) throw new Error(`the training statistics of model ${model} hold ${k}-grams but the model's order is ${order}: smooth with the --order the text was counted with`);
    const { followers, a } = adjustedCounts(order, range);
    opts.onRange?.(k, range, followers, a);
    const tally = countsOfCounts[k]!;
    for (const x of a) if (x >= 1 && x <= 4) tally[x]!++;
    if (k > 1 && a.length > 0) {
      writer.set(statsKeyOfPrefix(model, range.prefix), encodeContextStats(followerStats(a)));
      await writer.ready();
    }
    if ((++ranges & 1023) === 0) opts.onProgress?.(ranges);
  };
  // Every order in one pass per fork (a family scan): the ranges are independent, and a scan walks
  // the fork's rows of every namespace, so one pass walks the fork once instead of once per order,
  // with one request (or local read) per page instead of per order and page.
  await eachFork(forks, opts.forksAtOnce ?? 2, async (fork) => {
    const reader = new ContextRangeReader(model, null);
    await scanRange(client, statFamily(model), Buffer.from(fork, 'hex'), async (keys, values) => {
      for (const range of reader.push(keys, values)) await onRange(range);
    }, { family: true, local: opts.local });
    const last = reader.end();
    if (last) await onRange(last);
  });
  await writer.finish();
  opts.onProgress?.(ranges);
  return countsOfCounts;
}
