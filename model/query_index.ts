// The scoring layout of a model, as KenLM's probing tables: one hash table per order whose slot
// holds the key (the slot of the context in the table below, and the word) together with the
// entry's log10 probability and backoff. A probe that hits has everything in one slot, where the
// trie needs three loads (slot, probability, backoff arrays) - scoring is bound by those loads,
// not by arithmetic. Values stay float64, so scores are exactly the model's.
//
// A slot is [contextSlot, word, log10 p (f64), backoff (f64)]: 24 bytes, so a hit reads one cache
// line, or two for the quarter of slots that straddle one. The highest order has no backoffs,
// and its 16-byte slots stop at the probability: together a third less memory than 32-byte
// slots, which is most of what loading a binary model file costs (model/binary/).
import { hash } from './ngram_trie.js';
import type { LanguageModel } from './language_model.js';
import { UNK } from './vocab.js';

const EMPTY = -1;

/** Ints per slot of the order-k table: [contextSlot, word, log10 p, backoff], the last not at the highest order. */
export function slotStride(k: number, order: number): number {
  return k > 1 && k === order ? 4 : 6;
}

export interface QueryIndex {
  order: number;
  /** tables[k]: the k-grams (k >= 2), strides[k] ints per slot; tables[1]: unigrams by word id. */
  tables: Int32Array[];
  /** Float64 views of the same memory: with h = slot * strides[k] / 2, prob at h + 1, backoff at h + 2. */
  values: Float64Array[];
  strides: number[];
  /** slotCounts[k]: the slots of the order-k table (k >= 2; any number, not only powers of two: homeSlot). */
  slotCounts: number[];
  /** unigramSlot[w]: the unigram slot of word w, or of <unk> when w has no unigram. */
  unigramSlot: Int32Array;
}

/** The index and where each trie node went: slotOf[node] is its slot in the table of its order. */
export interface PlacedQueryIndex {
  index: QueryIndex;
  slotOf: Int32Array;
}

/**
 * The slot a probe for hash `h` (32 bits, unsigned) starts at in a table of `slots` slots: h scaled
 * to [0, slots) by a multiplication (Lemire's fast range), so a table can be sized to its entries
 * instead of the next power of two. With powers of two, the order-5 KJV model's tables were 0.28
 * to 0.54 full in ppl and 110 MB where 54 MB would do; on our VMs a first touch of fresh memory
 * costs ~1 ms per MB. (h * slots is below 2^58; a slot count of at least 64 keeps its rounding
 * from ever reaching `slots`.)
 */
export function homeSlot(h: number, slots: number): number {
  return (h * slots * 2.3283064365386963e-10) | 0;
}

/** Slots for `entries` entries with the table at most `maxLoad` full (at least 1024). */
export function slotsFor(entries: number, maxLoad: number): number {
  return Math.max(1024, Math.ceil(entries / maxLoad));
}

/**
 * Tables at most half full by default: linear probing's misses (every backoff step) stay short.
 * A binary model file trades some of that for a smaller file (model/binary/model_file.ts).
 */
export function buildQueryIndex(lm: LanguageModel, maxLoad = 0.5): QueryIndex {
  return placeQueryIndex(lm, maxLoad).index;
}

export function placeQueryIndex(lm: LanguageModel, maxLoad = 0.5): PlacedQueryIndex {
  const { trie, logProb, backoff, order, vocab } = lm;
  const counts = trie.countsByOrder(order);
  const tables: Int32Array[] = [new Int32Array(0)];
  const values: Float64Array[] = [new Float64Array(0)];
  const slotCounts: number[] = [0];
  const strides: number[] = [0];
  for (let k = 1; k <= order; k++) strides.push(slotStride(k, order));
  // Unigrams are indexed directly by word id: no probe for the first word of every lookup.
  const uni = new Int32Array(vocab.size * strides[1]);
  tables.push(uni);
  values.push(new Float64Array(uni.buffer));
  slotCounts.push(0);
  for (let k = 2; k <= order; k++) {
    const slots = slotsFor(counts[k], maxLoad);
    const t = new Int32Array(slots * strides[k]).fill(EMPTY);
    tables.push(t);
    values.push(new Float64Array(t.buffer));
    slotCounts.push(slots);
  }
  const slotOf = new Int32Array(trie.size).fill(-1);
  const uv = values[1];
  for (let w = 0; w < vocab.size; w++) {
    const n = lm.unigramNode[w];
    uv[w * 3 + 1] = n >= 0 ? logProb[n] : Number.NaN;
    uv[w * 3 + 2] = n >= 0 ? backoff[n] : 0;
    if (n >= 0) slotOf[n] = w;
  }
  // Parents come before children in id order, so each parent's slot is known when needed.
  for (let n = 1; n < trie.size; n++) {
    const k = trie.order[n];
    if (k < 2) continue;
    const parent = slotOf[trie.parent[n]];
    const word = trie.word[n];
    const t = tables[k];
    const slots = slotCounts[k];
    const stride = strides[k];
    let i = homeSlot(hash(parent, word), slots);
    while (t[i * stride] !== EMPTY) if (++i === slots) i = 0;
    t[i * stride] = parent;
    t[i * stride + 1] = word;
    values[k][((i * stride) >> 1) + 1] = logProb[n];
    if (k < order) values[k][((i * stride) >> 1) + 2] = backoff[n];
    slotOf[n] = i;
  }
  const unigramSlot = new Int32Array(vocab.size);
  for (let w = 0; w < vocab.size; w++) unigramSlot[w] = lm.unigramNode[w] >= 0 ? w : UNK;
  return { index: { order, tables, values, slotCounts, strides, unigramSlot }, slotOf };
}

/** log10 p of the slot of order k (NaN for a prefix stored without an entry of its own). */
export const probAt = (index: QueryIndex, k: number, slot: number): number => index.values[k][((slot * index.strides[k]) >> 1) + 1];
/** The backoff of the slot of order k (0 at the highest order). */
export const backoffAt = (index: QueryIndex, k: number, slot: number): number => (k < index.order ? index.values[k][((slot * index.strides[k]) >> 1) + 2] : 0);
/** The context slot (in the table of order k - 1) of the slot of order k >= 2; -1 for an empty slot. */
export const contextAt = (index: QueryIndex, k: number, slot: number): number => index.tables[k][slot * index.strides[k]];
/** The last word of the slot of order k >= 2. */
export const wordAt = (index: QueryIndex, k: number, slot: number): number => index.tables[k][slot * index.strides[k] + 1];
/** The number of slots of the order-k table. */
export const slotCount = (index: QueryIndex, k: number): number => (k === 1 ? index.tables[1].length / index.strides[1] : index.slotCounts[k]);

/** True when word w has a unigram of its own (otherwise it is scored as <unk>). */
export function hasUnigram(index: QueryIndex, w: number): boolean {
  return index.unigramSlot[w] === w;
}
