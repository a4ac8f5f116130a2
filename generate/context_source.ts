// Where the decoder reads a backoff model: for a context (word ids, oldest first), its stored
// followers with log10 p and its log10 backoff. A model file answers from memory, the store with
// scans (cached by the model's version); the decoder (decoder.ts) never knows which.
//
// Followers come most probable first (ties: lower id first), the order of a Top-K head, so the
// exact draw (exact_draw.ts) usually stops within the first few entries.
import { indexChildren, type ChildIndex } from '../model/children.js';
import type { LanguageModel } from '../model/language_model.js';
import { ROOT } from '../model/ngram_trie.js';
import { BOS } from '../model/vocab.js';

export interface ContextFollowers {
  /** Follower word ids, most probable first. */
  words: Int32Array;
  /** log10 p(word | context), in the order of `words`. */
  logProbs: Float64Array;
  /** log10 backoff of the context (0 for the empty context and for contexts stored without one). */
  backoff: number;
}

export interface ContextSource {
  readonly order: number;
  readonly vocabSize: number;
  /**
   * The followers of `context` (at most order - 1 ids; [] is the unigram distribution, without
   * <s>), or null when the model does not store the context.
   */
  followers(context: readonly number[]): Promise<ContextFollowers | null>;
  /** Whether followers(context) would answer without asking a store (absent: always). */
  isCached?(context: readonly number[]): boolean;
  /** followers(context) without waiting, when it needs no store read; undefined when it does. */
  followersNow?(context: readonly number[]): ContextFollowers | null | undefined;
}

/**
 * The positions of followers most probable first, ties by id, as the Top-K heads are ordered.
 * Plain loops, not Array.from with a mapping: a cold store token sorts a few ranges, and the
 * iterator and callback forms cost about a third more of that time.
 */
export function followerOrder(words: Int32Array, logProbs: Float64Array): number[] {
  const order = new Array<number>(words.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => logProbs[b]! - logProbs[a]! || words[a]! - words[b]!);
}

/** `values` in `order` (positions, followerOrder's). */
export function permuted<T extends Int32Array | Float64Array>(values: T, order: readonly number[]): T {
  const out = new (values.constructor as new (length: number) => T)(order.length);
  for (let i = 0; i < order.length; i++) out[i] = values[order[i]!]!;
  return out;
}

/** Sorts followers most probable first, ties by id, as the Top-K heads are ordered. */
export function sortFollowers(words: Int32Array, logProbs: Float64Array, backoff: number): ContextFollowers {
  const order = followerOrder(words, logProbs);
  return { words: permuted(words, order), logProbs: permuted(logProbs, order), backoff };
}

/** A model in memory (an ARPA file read, or a model built in-process). */
export class ModelContextSource implements ContextSource {
  readonly order: number;
  readonly vocabSize: number;
  private readonly children: ChildIndex;
  private readonly cache = new Map<number, ContextFollowers>();

  constructor(private readonly lm: LanguageModel) {
    this.order = lm.order;
    this.vocabSize = lm.vocab.size;
    this.children = indexChildren(lm.trie);
  }

  async followers(context: readonly number[]): Promise<ContextFollowers | null> {
    return this.followersNow(context);
  }

  /** A model in memory answers every context at once. */
  followersNow(context: readonly number[]): ContextFollowers | null {
    const node = context.length === 0 ? ROOT : this.lm.trie.findPath(context);
    if (node < 0) return null;
    const cached = this.cache.get(node);
    if (cached) return cached;
    const { start, nodes } = this.children;
    const words: number[] = [];
    const logProbs: number[] = [];
    for (let c = start[node]!; c < start[node + 1]!; c++) {
      const n = nodes[c]!;
      const lp = this.lm.logProb[n]!;
      const w = this.lm.trie.word[n]!;
      // A prefix-only node (pruned models) has no probability; <s> is never predicted.
      if (Number.isNaN(lp) || (node === ROOT && w === BOS)) continue;
      words.push(w);
      logProbs.push(lp);
    }
    const found = sortFollowers(Int32Array.from(words), Float64Array.from(logProbs), node === ROOT ? 0 : this.lm.backoff[node]!);
    // Contexts repeat across tokens and samples; bounded so a long run does not grow without limit.
    if (this.cache.size >= 100_000) this.cache.clear();
    this.cache.set(node, found);
    return found;
  }
}
