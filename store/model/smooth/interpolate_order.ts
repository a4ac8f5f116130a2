// The n-grams of one order k, interpolated (model/interpolate.ts in-process) and written to
// `<model>.p`: one pass over the actor's share of order k (order_shares.ts: the context ranges of
// k - 1 words of the given forks, as the adjust pass kept them, or read from the store here). For
// a context h with followers w:
//
//   p(w | h)  = (a(hw) - D(a(hw))) / s(h) + gamma(h) * lower(w)
//   gamma(h)  = (D1 n1(h) + D2 n2(h) + D3 n3+(h)) / s(h)
//   lower(w)  = 1 / (|V| - 1) for k = 1, else p(w | h') from `<model>.p` (h' = h without its first
//               word; order k - 1 is complete before order k starts)
//   backoff   = log10 gamma(hw) from hw's STATS key (same range, so read from the actor's own
//               database), with the discounts of order k + 1; 0 when hw has no followers
//
// The unigram <s> gets log10 p = 0 (p = 1, never predicted), <unk> and </s> are added when the
// statistics lack them, with a = 0, as in-process. Lookups of lower-order p and of the followers'
// STATS are gathered over ranges and fetched with one multiGet per batch; writes go through
// bounded exactly-once batches.
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
import { decodeContextStats, StatKeyBuilder, TAG_STATS } from '../stat_keys.js';
import { followerStats, type PhaseOptions } from './adjust_stats.js';
import { gammaOf, splitOrders, type OrderShare } from './order_shares.js';
import { allForks, multiGetLocal } from './stat_scan.js';
import type { VocabIndex } from './vocab_assign.js';

/** Lower-order probabilities fetched per multiGet, at least. */
const LOOKUPS_PER_BATCH = 2048;

/** D(a) of order k's discounts (0 for a = 0). */
function discountOf(d: readonly number[], a: number): number {
  return a <= 0 ? 0 : d[a < 3 ? a : 3]!;
}

export interface InterpolateOptions extends PhaseOptions {
  /** Build the Top-K heads (this many entries) of the contexts interpolated; 0 or absent: none. */
  topkK?: number;
  /** Keep those heads here rather than write them (at the model's order: topk/held_heads.ts). */
  holdHeads?: HeldHeads;
  /** Order k's share of these forks, split before (order_shares.ts); absent: scanned here. */
  share?: OrderShare;
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
  if (opts.share && opts.share.k !== k) throw new Error(`order ${k} was given the share of order ${opts.share.k}`);
  const share = opts.share ?? (await splitOrders(client, model, order, vocab, forks, k, k, opts))[0]!;
  const { contextIds, ends, ids, a } = share;
  const d = discounts[k]!;
  const dUp = k < order ? discounts[k + 1]! : undefined;
  const uniform = 1 / (vocab.size - 1);
  const bos = vocab.idOf(BOS_TOKEN);
  const writer = new ForkBatchWriter(client, { local: opts.localWrite });
  const prefixes = new ContextPrefixes(model);
  const heads = opts.topkK ? new HeadBuilder(client, model, k - 1, opts.topkK, opts.localWrite, opts.holdHeads) : null;
  let written = 0;

  /** Range r's followers: ids/a[from..to). */
  const fromOf = (r: number): number => (r === 0 ? 0 : ends[r - 1]!);
  const contextOf = (r: number): Uint32Array => contextIds.subarray(r * (k - 1), (r + 1) * (k - 1));
  // A follower hw's backoff is log10 gamma(hw) from its STATS key (in this range: read locally)
  // with the next order's discounts; there is none at the model's order.
  const stats = k < order ? new StatKeyBuilder(model) : null;
  const wordBytes: Buffer[] = [];
  const bytesOf = (id: number): Buffer => (wordBytes[id] ??= Buffer.from(vocab.words[id]!, 'utf8'));
  const backoffOf = (v: Value): number => {
    if (!(v instanceof Buffer) || !dUp) return 0;
    const s = decodeContextStats(v);
    return s.total > 0 ? Math.log10(gammaOf(s, dUp)) : 0;
  };

  /**
   * Writes the k-grams of range r given each follower's lower-order probability and backoff (by
   * its index in the share), and its head given its suffix's (unused at k = 1).
   */
  const writeRange = async (r: number, lower: (i: number) => number, backoff: (i: number) => number, suffixHead: Value): Promise<void> => {
    const from = fromOf(r);
    const to = ends[r]!;
    const followers = followerStats(a.subarray(from, to));
    const gamma = gammaOf(followers, d);
    const context = contextOf(r);
    const head = prefixes.of(context);
    const headWords: number[] = [];
    const headLogProbs: number[] = [];
    const put = (id: number, logProb: number, backoffOf: number): void => {
      writer.set(ngramKeyAt(head, id), encodeNgramValue(logProb, backoffOf));
      written++;
      if (heads) {
        headWords.push(id);
        headLogProbs.push(logProb);
      }
    };
    for (let i = from; i < to; i++) {
      let logProb = 0;
      if (!(k === 1 && ids[i] === bos)) {
        const ai = a[i]!;
        logProb = Math.log10((ai - discountOf(d, ai)) / followers.total + gamma * lower(i));
      }
      put(ids[i]!, logProb, backoff(i));
    }
    if (k === 1) {
      // In-process always has these unigrams; a = 0, so p = gamma / (|V| - 1) and no backoff.
      for (const word of [UNK_TOKEN, EOS_TOKEN]) {
        const id = vocab.idOf(word);
        if (ids.subarray(from, to).includes(id)) continue;
        put(id, Math.log10(gamma * uniform), 0);
      }
    }
    // gamma > 0: h has followers, all with a(hw) >= 1 (k >= 2), as the backoff of h was computed.
    if (heads) await heads.add(context, headWords, headLogProbs, suffixHead, k === 1 ? 0 : Math.log10(gamma));
    await writer.ready();
    if ((r & 1023) === 1023) opts.onProgress?.(r + 1);
  };

  // Ranges wait here until enough lookups are gathered for one multiGet: per range, each
  // follower's lower-order p (k >= 2), each follower's STATS (k < order), then the suffix's head.
  const lowers = k >= 2;
  const perFollower = (lowers ? 1 : 0) + (stats ? 1 : 0);
  const suffixes = heads && k >= 2 ? 1 : 0;
  let pending: number[] = [];
  let lookups: Buffer[] = [];
  const flush = async (): Promise<void> => {
    if (!pending.length) return;
    const batch = pending;
    const keys = lookups;
    pending = [];
    lookups = [];
    const values = keys.length ? await multiGetLocal(client, keys, opts.localGet) : [];
    let at = 0;
    for (const r of batch) {
      const from = fromOf(r);
      const n = ends[r]! - from;
      const lowerAt = at - from;
      const statsAt = lowerAt + (lowers ? n : 0);
      const suffixAt = at + perFollower * n;
      at = suffixAt + suffixes;
      await writeRange(
        r,
        lowers
          ? (i) => {
              const v = values[lowerAt + i];
              if (!(v instanceof Buffer)) {
                const words = [...contextOf(r).subarray(1), ids[i]!].map((id) => vocab.words[id]);
                throw new Error(`model ${model}: p(${words.pop()} | ${words.join(' ')}) of order ${k - 1} is not in ${model}.p, which order ${k} needs; order ${k - 1} did not finish: smooth the model again`);
              }
              return 10 ** decodeNgramValue(v).logProb;
            }
          : () => uniform,
        stats ? (i) => backoffOf(values[statsAt + i]) : () => 0,
        suffixes ? values[suffixAt] : undefined,
      );
    }
  };

  for (let r = 0; r < share.ranges; r++) {
    const context = contextOf(r);
    pending.push(r);
    if (lowers) {
      const lowerHead = prefixes.of(context, 1);
      for (let i = fromOf(r); i < ends[r]!; i++) lookups.push(ngramKeyAt(lowerHead, ids[i]!));
    }
    if (stats) {
      const contextBytes = Array.from(context, bytesOf);
      for (let i = fromOf(r); i < ends[r]!; i++) lookups.push(stats.key(contextBytes, bytesOf(ids[i]!), TAG_STATS));
    }
    if (suffixes) lookups.push(heads!.suffixKey(context));
    if (lookups.length >= LOOKUPS_PER_BATCH || pending.length >= LOOKUPS_PER_BATCH) await flush();
  }
  await flush();
  await writer.finish();
  const built = heads && (await heads.finish());
  opts.onProgress?.(share.ranges);
  return { written, heads: built };
}
