// The forward index of a binary model file: each context's stored followers, most probable first,
// so the K most probable next words of a context come from a few short lists instead of the trie.
// followers.1 lists the words by unigram log10 p; followers.k (k >= 2) lists the slots of the
// order-k table grouped by their context's slot (found by binary search, the context being in the
// slot itself), each group most probable first, then its blank prefix entries (NaN) last.
//
// A head is computed as buildTopK (model/topk.ts) computes it, step for step along the history's
// stored suffixes, shortest first: the best K of a context's own followers and of the nearest
// shorter context's head re-weighted by the backoffs in between, rounded to float32 at each
// level. So the answer equals topk's from the ARPA to the bit, in microseconds, with no heads
// stored: only the heads' codebook is (its sample spans every head, so it is built at write time).
import { HeadSelector } from '../topk.js';
import { hash } from '../ngram_trie.js';
import { backoffAt, contextAt, homeSlot, probAt, slotCount, wordAt, type QueryIndex } from '../query_index.js';
import { BOS } from '../vocab.js';

export const followersSection = (k: number): string => `followers.${k}`;
export const HEAD_CODEBOOK_SECTION = 'topk.codebook';

/** (higher log10 p first, NaN last, then lower word id first): HeadSelector's order. */
function byValue(p1: number, w1: number, p2: number, w2: number): number {
  if (p1 !== p2) return Number.isNaN(p1) ? 1 : Number.isNaN(p2) ? -1 : p2 - p1;
  return w1 - w2;
}

/** The follower lists of the index's tables (at write time). */
export function followerSections(index: QueryIndex, vocabSize: number): Map<string, Int32Array> {
  const out = new Map<string, Int32Array>();
  const uni: number[] = [];
  for (let w = 0; w < vocabSize; w++) if (w !== BOS && index.unigramSlot[w] === w && !Number.isNaN(probAt(index, 1, w))) uni.push(w);
  uni.sort((a, b) => byValue(probAt(index, 1, a), a, probAt(index, 1, b), b));
  out.set(followersSection(1), Int32Array.from(uni));
  for (let k = 2; k <= index.order; k++) {
    const slots: number[] = [];
    for (let s = 0; s < slotCount(index, k); s++) if (contextAt(index, k, s) !== -1) slots.push(s);
    slots.sort((a, b) => contextAt(index, k, a) - contextAt(index, k, b) || byValue(probAt(index, k, a), wordAt(index, k, a), probAt(index, k, b), wordAt(index, k, b)));
    out.set(followersSection(k), Int32Array.from(slots));
  }
  return out;
}

export interface Head {
  /** The longest stored context of the history, as word ids (empty: the empty context). */
  context: number[];
  words: number[];
  /** log10 p of each word, float32-rounded as topk's heads hold them. */
  values: number[];
}

export class FollowerIndex {
  constructor(
    private readonly index: QueryIndex,
    /** followers[k]: followers.k of the file. */
    private readonly followers: Int32Array[],
  ) {}

  /** The slot of the n-gram `ids` in the table of its order, or -1. */
  private slotOf(ids: readonly number[]): number {
    let slot = this.index.unigramSlot[ids[0]];
    for (let j = 1; j < ids.length && slot >= 0; j++) slot = this.childSlot(j, slot, ids[j]);
    return slot;
  }

  /** The slot of the order-k slot `parent` extended by `word`, in the table of order k + 1, or -1. */
  private childSlot(k: number, parent: number, word: number): number {
    const index = this.index;
    const slots = index.slotCounts[k + 1];
    for (let i = homeSlot(hash(parent, word), slots); contextAt(index, k + 1, i) !== -1; i = i + 1 === slots ? 0 : i + 1) {
      if (contextAt(index, k + 1, i) === parent && wordAt(index, k + 1, i) === word) return i;
    }
    return -1;
  }

  /** [from, to) in followers[k + 1] of the followers of the order-k context slot c. */
  private range(k: number, c: number): [number, number] {
    const list = this.followers[k + 1];
    const index = this.index;
    const first = (target: number): number => {
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (contextAt(index, k + 1, list[mid]) < target) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    return [first(c), first(c + 1)];
  }

  /** The head of the history's longest stored context (NextWordDistribution.contexts + rowFor + buildTopK). */
  head(history: readonly number[], k: number): Head {
    const index = this.index;
    const { order, unigramSlot } = index;
    // The stored suffixes of the history, shortest first, as (order, slot) with their word ids.
    const chain: { order: number; slot: number; ids: number[] }[] = [];
    const from = Math.max(0, history.length - (order - 1));
    for (let len = 1; len <= history.length - from; len++) {
      const ids = history.slice(history.length - len);
      ids[0] = unigramSlot[ids[0]]; // a word with no unigram of its own starts from <unk>'s
      const slot = this.slotOf(ids);
      if (slot < 0) break;
      chain.push({ order: len, slot, ids });
    }
    const best = new HeadSelector(k);
    const f32 = new Float32Array(k);
    let words: number[] = [];
    let vals: number[] = [];
    // The empty context: the unigrams, most probable first.
    const uni = this.followers[1];
    for (let i = 0; i < Math.min(k, uni.length); i++) {
      words.push(uni[i]);
      f32[i] = probAt(index, 1, uni[i]);
      vals.push(f32[i]);
    }
    const skipped: number[] = [];
    for (const c of chain) {
      const bo = backoffAt(index, c.order, c.slot);
      const [lo, hi] = c.order < order ? this.range(c.order, c.slot) : [0, 0];
      if (lo === hi) {
        skipped.push(bo);
        continue;
      }
      best.reset();
      const list = this.followers[c.order + 1];
      for (let i = lo; i < hi && i < lo + k; i++) {
        const p = probAt(index, c.order + 1, list[i]);
        if (!Number.isNaN(p)) best.offer(wordAt(index, c.order + 1, list[i]), p);
      }
      let extra = bo;
      for (let i = skipped.length - 1; i >= 0; i--) extra += skipped[i];
      skipped.length = 0;
      for (let i = 0; i < words.length; i++) {
        const child = this.childSlot(c.order, c.slot, words[i]);
        if (child >= 0 && !Number.isNaN(probAt(index, c.order + 1, child))) continue; // offered above with its own value
        best.offer(words[i], vals[i] + extra);
      }
      words = Array.from(best.words.subarray(0, best.filled));
      for (let i = 0; i < best.filled; i++) f32[i] = best.values[i];
      vals = Array.from(f32.subarray(0, best.filled));
    }
    const longest = chain.length ? chain[chain.length - 1].ids : [];
    return { context: longest, words, values: vals };
  }
}
