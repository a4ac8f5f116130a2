// The n-grams of one order k, interpolated (model/interpolate.ts in-process) and written to
// `<model>.p`: one pass over the given forks taking the context ranges of order k - 1. For a
// context h with followers w:
//
//   p(w | h)  = (a(hw) - D(a(hw))) / s(h) + gamma(h) * lower(w)
//   gamma(h)  = (D1 n1(h) + D2 n2(h) + D3 n3+(h)) / s(h)
//   lower(w)  = 1 / (|V| - 1) for k = 1, else p(w | h') from `<model>.p` (h' = h without its first
//               word; order k - 1 is complete before order k starts)
//   backoff   = log10 gamma(hw) from hw's STATS key (same range), with the discounts of order k + 1;
//               0 when hw has no followers
//
// The unigram <s> gets log10 p = 0 (p = 1, never predicted), <unk> and </s> are added when the
// statistics lack them, with a = 0, as in-process. Lookups of lower-order p are gathered over
// ranges and fetched with one multiGet per batch; writes go through bounded exactly-once batches.
//
// With `topkK` (the pipeline's materialise step), the pass also builds the Top-K head of every
// context h it interpolates (topk/head_builder.ts), from the followers' log10 p it has just
// computed: head(h'), written by the pass of order k - 1, rides in the same multiGets, and
// backoff(h) = log10 gamma(h) is what the pass of order k - 1 wrote for h (its STATS key holds
// these followers' statistics, with these discounts). So the heads need no pass of their own over
// the written n-grams, and no lookup of h's entry.
import type { Discounts } from '../../../model/discounts.js';
import { BOS_TOKEN, EOS_TOKEN, UNK_TOKEN } from '../../../model/vocab.js';
import type { StoreClient, Value } from '../../client/client.js';
import { ForkBatchWriter } from '../fork_batches.js';
import { HeadBuilder, type HeadsPassResult } from '../topk/head_builder.js';
import type { HeldHeads } from '../topk/held_heads.js';
import { ContextPrefixes, decodeNgramValue, encodeNgramValue, ngramKeyAt } from '../layout.js';
import { statContextRange, statNamespace, type ContextStats } from '../stat_keys.js';
import { adjustedCounts, followerStats, type PhaseOptions } from './adjust_stats.js';
import { ContextRangeReader, type ContextRange, type Follower } from './context_ranges.js';
import { allForks, eachFork, multiGetLocal, scanRange } from './stat_scan.js';
import type { VocabIndex } from './vocab_assign.js';

/** Lower-order probabilities fetched per multiGet, at least. */
const LOOKUPS_PER_BATCH = 2048;

/** D(a) of order k's discounts (0 for a = 0). */
function discountOf(d: readonly number[], a: number): number {
  return a <= 0 ? 0 : d[a < 3 ? a : 3]!;
}

/** gamma of a context from its follower statistics, with the followers' order's discounts. */
export function gammaOf(stats: ContextStats, d: readonly number[]): number {
  return (d[1]! * stats.n1 + d[2]! * stats.n2 + d[3]! * stats.n3plus) / stats.total;
}

/** A context range with its n-gram followers, their adjusted counts and the word ids, each looked up once. */
interface IdRange {
  range: ContextRange;
  followers: Follower[];
  a: Float64Array;
  /** The context's word ids, first word first. */
  contextIds: number[];
  /** followers[i]'s word id. */
  ids: Uint32Array;
}

interface Pending extends IdRange {
  /** Index of this range's first lookup in the batch (its suffix's head follows its followers'). */
  at: number;
}

export interface InterpolateOptions extends PhaseOptions {
  /** Build the Top-K heads (this many entries) of the contexts interpolated; 0 or absent: none. */
  topkK?: number;
  /** Keep those heads here rather than write them (at the model's order: topk/held_heads.ts). */
  holdHeads?: HeldHeads;
}

export interface InterpolateResult {
  /** k-grams written. */
  written: number;
  /** The heads of the contexts of k - 1 words, with `topkK`. */
  heads: HeadsPassResult | null;
}

/** Interpolates order `k` over `forks` (all by default); the model's order is `discounts.length - 1`. */
export async function interpolateOrder(client: StoreClient, model: string, k: number, discounts: Discounts, vocab: VocabIndex, forks: readonly string[] = allForks(client), opts: InterpolateOptions = {}): Promise<InterpolateResult> {
  const order = discounts.length - 1;
  if (!(k >= 1 && k <= order)) throw new Error(`order ${k} is outside 1..${order} (the discounts' orders)`);
  const d = discounts[k]!;
  const dUp = k < order ? discounts[k + 1]! : undefined;
  const uniform = 1 / (vocab.size - 1);
  const writer = new ForkBatchWriter(client, { local: opts.localWrite });
  const prefixes = new ContextPrefixes(model);
  const heads = opts.topkK ? new HeadBuilder(client, model, k - 1, opts.topkK, opts.localWrite, opts.holdHeads) : null;
  let written = 0;
  let ranges = 0;

  const backoffOf = (f: Follower): number => (dUp && f.stats && f.stats.total > 0 ? Math.log10(gammaOf(f.stats, dUp)) : 0);

  /**
   * Writes the k-grams of one range given each follower's lower-order probability, and its head
   * given its suffix's (unused at k = 1).
   */
  const writeRange = async ({ followers, a, contextIds, ids }: IdRange, lower: (i: number) => number, suffixHead?: Value): Promise<void> => {
    const stats = followerStats(a);
    const gamma = gammaOf(stats, d);
    const head = prefixes.of(contextIds);
    const headWords: number[] = [];
    const headLogProbs: number[] = [];
    const put = (id: number, logProb: number, backoff: number): void => {
      writer.set(ngramKeyAt(head, id), encodeNgramValue(logProb, backoff));
      written++;
      if (heads) {
        headWords.push(id);
        headLogProbs.push(logProb);
      }
    };
    for (let i = 0; i < followers.length; i++) {
      const f = followers[i]!;
      let logProb = 0;
      if (!(k === 1 && f.word === BOS_TOKEN)) {
        const ai = a[i]!;
        logProb = Math.log10((ai - discountOf(d, ai)) / stats.total + gamma * lower(i));
      }
      put(ids[i]!, logProb, backoffOf(f));
    }
    if (k === 1) {
      // In-process always has these unigrams; a = 0, so p = gamma / (|V| - 1) and no backoff.
      for (const word of [UNK_TOKEN, EOS_TOKEN]) {
        if (followers.some((f) => f.word === word)) continue;
        put(vocab.idOf(word), Math.log10(gamma * uniform), 0);
      }
    }
    // gamma > 0: h has followers, all with a(hw) >= 1 (k >= 2), as backoffOf wrote for h.
    if (heads) await heads.add(contextIds, headWords, headLogProbs, suffixHead, k === 1 ? 0 : Math.log10(gamma));
    await writer.ready();
    if ((++ranges & 1023) === 0) opts.onProgress?.(ranges);
  };

  // Order >= 2: ranges wait here until enough lower-order lookups are gathered for one multiGet.
  let pending: Pending[] = [];
  let lookups: Buffer[] = [];
  const flush = async (): Promise<void> => {
    if (!pending.length) return;
    const batch = pending;
    const keys = lookups;
    pending = [];
    lookups = [];
    const values = await multiGetLocal(client, keys, opts.localGet);
    for (const pendingRange of batch) {
      const { range, followers, at } = pendingRange;
      const headAt = at + followers.length;
      await writeRange(
        pendingRange,
        (i) => {
          const v = values[at + i];
          if (!(v instanceof Buffer)) {
            throw new Error(`model ${model}: p(${followers[i]!.word} | ${range.context.slice(1).join(' ')}) of order ${k - 1} is not in ${model}.p, which order ${k} needs; order ${k - 1} did not finish: smooth the model again`);
          }
          return 10 ** decodeNgramValue(v).logProb;
        },
        values[headAt],
      );
    }
  };

  const onRange = async (range: ContextRange): Promise<void> => {
    const { followers, a } = adjustedCounts(order, range);
    if (!followers.length) return;
    const ids = new Uint32Array(followers.length);
    for (let i = 0; i < followers.length; i++) ids[i] = vocab.idOf(followers[i]!.word);
    const withIds: IdRange = { range, followers, a, contextIds: range.context.map((w) => vocab.idOf(w)), ids };
    if (k === 1) return writeRange(withIds, () => uniform);
    const lowerHead = prefixes.of(withIds.contextIds, 1);
    pending.push({ ...withIds, at: lookups.length });
    for (let i = 0; i < ids.length; i++) lookups.push(ngramKeyAt(lowerHead, ids[i]!));
    if (heads) lookups.push(heads.suffixKey(withIds.contextIds));
    if (lookups.length >= LOOKUPS_PER_BATCH) await flush();
  };

  const scan = async (range: Buffer): Promise<void> => {
    const reader = new ContextRangeReader(model, k, (words) => words === k - 1);
    await scanRange(client, statNamespace(model, k), range, async (keys, values) => {
      for (const r of reader.push(keys, values)) await onRange(r);
    }, { local: opts.local });
    const last = reader.end();
    if (last) await onRange(last);
  };
  if (k === 1) {
    // One context, one routing prefix: scan just it, if it is in these forks.
    const unigrams = statContextRange(model, []);
    if (forks.includes(client.map.lookup(unigrams).fork)) await scan(unigrams);
  } else await eachFork(forks, opts.forksAtOnce ?? 2, (fork) => scan(Buffer.from(fork, 'hex')));
  await flush();
  await writer.finish();
  const built = heads && (await heads.finish());
  opts.onProgress?.(ranges);
  return { written, heads: built };
}
