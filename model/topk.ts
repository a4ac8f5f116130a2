// Top-K heads: the K most probable next words of every context, with quantized log10 values, so
// a decoder can sample without touching the whole vocabulary.
//
// Built bottom-up without scanning the vocabulary per context. For an interpolated model every
// stored follower satisfies p(w | h) >= backoff(h) p(w | h'), so each of the K best entries of the
// shorter context h' is worth at least as much under h as any word outside that list; hence
// top-K(h) is the best K of h's own followers and top-K(h') re-weighted: exact for models built by
// dbslm or KenLM (not guaranteed for pruned backoff models, whose stored entries may be smaller).
//
// The pieces every builder shares are here, so the store's distributed build
// (store/model/topk/) gives the same heads and codes as buildTopK: the selection order
// (HeadSelector), the float32 rounding of head values, and the codebook sample, which is chosen by
// a hash of (context ids, rank), not by position, so it does not depend on the order in which
// heads are built or on how they are spread over store actors.
import { indexChildren } from './children.js';
import type { LanguageModel } from './language_model.js';
import { ROOT } from './ngram_trie.js';
import { encode, trainCodebook, type Codebook } from './quantize.js';
import { BOS } from './vocab.js';

export interface TopK {
  k: number;
  /** rowOf[node]: the row of a context node, or -1 when the node has no followers of its own. */
  rowOf: Int32Array;
  rows: number;
  /** words[row * k + i]: the i-th most probable word (-1 past the end when fewer than k). */
  words: Int32Array;
  /** Exact log10 p of each entry, rounded to float32 (kept for tests and for re-quantizing). */
  values: Float32Array;
  codes: Uint8Array | Uint16Array;
  codebook: Codebook;
}

/** Values the codebook is trained on, at most: sorting all rows*k values (35M for KJV order 5) would cost more than building the heads, and a million pin 2^16 quantiles down well. */
export const CODEBOOK_SAMPLE = 1_000_000;

/** The best k of the (word, value) pairs offered since reset: value descending, then word id ascending. */
export class HeadSelector {
  readonly words: Int32Array;
  readonly values: Float64Array;
  filled = 0;
  constructor(readonly k: number) {
    this.words = new Int32Array(k);
    this.values = new Float64Array(k);
  }

  reset(): void {
    this.filled = 0;
  }

  offer(w: number, v: number): void {
    const { k, words, values } = this;
    if (this.filled === k && !(v > values[k - 1] || (v === values[k - 1] && w < words[k - 1]))) return;
    let i = this.filled < k ? this.filled++ : k - 1;
    while (i > 0 && (values[i - 1] < v || (values[i - 1] === v && words[i - 1] > w))) {
      values[i] = values[i - 1];
      words[i] = words[i - 1];
      i--;
    }
    values[i] = v;
    words[i] = w;
  }
}

/** The hash of a context's word ids, folded first word first (ROOT: the empty context). */
export const EMPTY_CONTEXT_HASH = 0x811c9dc5;
export function contextHashStep(h: number, word: number): number {
  return Math.imul(h ^ word, 0x01000193) >>> 0;
}
export function contextHash(ids: ArrayLike<number>): number {
  let h = EMPTY_CONTEXT_HASH;
  for (let i = 0; i < ids.length; i++) h = contextHashStep(h, ids[i]!);
  return h;
}

/** The sampling hash of the entry of rank `rank` in the head of a context of hash `ctx` (murmur3's finaliser). */
export function entryHash(ctx: number, rank: number): number {
  let h = (ctx ^ Math.imul(rank + 1, 0x9e3779b9)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The codebook sample: of all head entries, the `size` smallest by (entry hash, value). A
 * function of the set of entries only, and mergeable: the union of parts' samples, cut again,
 * is the sample of the union.
 */
export class HeadSample {
  private hashes: Uint32Array;
  private values: Float64Array;
  private n = 0;
  /** Entries hashing above this cannot be among the smallest `size` (once the buffer was cut). */
  private cutoff = 0xffffffff;
  constructor(readonly size = CODEBOOK_SAMPLE) {
    this.hashes = new Uint32Array(2 * size);
    this.values = new Float64Array(2 * size);
  }

  add(hash: number, value: number): void {
    if (hash > this.cutoff) return;
    if (this.n === this.hashes.length) this.cut();
    this.hashes[this.n] = hash;
    this.values[this.n++] = value;
  }

  /** The sample's (hash, value) pairs, cut to `size`, in no particular order. */
  entries(): { hashes: Uint32Array; values: Float64Array } {
    this.cut();
    return { hashes: this.hashes.slice(0, this.n), values: this.values.slice(0, this.n) };
  }

  /**
   * Keeps the `size` smallest by (hash, value). Typed-array sorts only (a comparator sort of two
   * million entries blocks a store actor's event loop for seconds, long enough to be thought dead).
   */
  private cut(): void {
    const { hashes, values, size } = this;
    if (this.n <= size) return;
    const c = hashes.slice(0, this.n).sort()[size - 1]!;
    let below = 0;
    const tied: number[] = [];
    for (let i = 0; i < this.n; i++) {
      if (hashes[i]! < c) below++;
      else if (hashes[i] === c) tied.push(values[i]!);
    }
    // Of the entries hashing to the cutoff, the smallest values fill the sample up to `size`.
    const tiedKept = Float64Array.from(tied).sort().subarray(0, size - below);
    let kept = 0;
    for (let i = 0; i < this.n; i++) {
      if (hashes[i]! < c) {
        hashes[kept] = hashes[i]!;
        values[kept++] = values[i]!;
      }
    }
    for (const v of tiedKept) {
      hashes[kept] = c;
      values[kept++] = v;
    }
    this.n = kept;
    this.cutoff = c;
  }
}

/** The codebook of a sample of head values (HeadSample.entries().values). */
export function headCodebook(sample: Float64Array, bits: number): Codebook {
  return trainCodebook(sample, bits);
}

export function emptyCodes(bits: number, n: number): Uint8Array | Uint16Array {
  return bits <= 8 ? new Uint8Array(n) : new Uint16Array(n);
}

export function buildTopK(lm: LanguageModel, k = 32, bits = 8): TopK {
  const { trie, logProb, backoff } = lm;
  const { start, nodes } = indexChildren(trie);
  const rowOf = new Int32Array(trie.size).fill(-1);
  let rows = 0;
  rowOf[ROOT] = rows++;
  for (let n = 1; n < trie.size; n++) if (start[n + 1] > start[n]) rowOf[n] = rows++;
  const words = new Int32Array(rows * k).fill(-1);
  const values = new Float32Array(rows * k).fill(-Infinity);
  const best = new HeadSelector(k);
  // Parents have smaller ids than their children, so one pass in id order hashes every path.
  const hashOf = new Uint32Array(trie.size);
  hashOf[ROOT] = EMPTY_CONTEXT_HASH;
  for (let n = 1; n < trie.size; n++) hashOf[n] = contextHashStep(hashOf[trie.parent[n]], trie.word[n]);
  const sample = new HeadSample();
  const store = (row: number, node: number): void => {
    for (let i = 0; i < best.filled; i++) {
      words[row * k + i] = best.words[i];
      values[row * k + i] = best.values[i];
      sample.add(entryHash(hashOf[node], i), values[row * k + i]);
    }
  };
  // The empty context: unigram probabilities (every word but <s>).
  best.reset();
  for (let c = start[ROOT]; c < start[ROOT + 1]; c++) {
    const n = nodes[c];
    if (trie.word[n] !== BOS && !Number.isNaN(logProb[n])) best.offer(trie.word[n], logProb[n]);
  }
  store(0, ROOT);
  // Suffixes have smaller ids than the contexts that extend them, so id order is bottom-up.
  for (let h = 1; h < trie.size; h++) {
    const row = rowOf[h];
    if (row < 0) continue;
    best.reset();
    for (let c = start[h]; c < start[h + 1]; c++) {
      const n = nodes[c];
      if (!Number.isNaN(logProb[n])) best.offer(trie.word[n], logProb[n]);
    }
    let extra = backoff[h];
    let s = trie.suffix[h] < 0 ? ROOT : trie.suffix[h];
    while (rowOf[s] < 0) {
      extra += backoff[s];
      s = trie.suffix[s] < 0 ? ROOT : trie.suffix[s];
    }
    const from = rowOf[s] * k;
    for (let i = 0; i < k; i++) {
      const w = words[from + i];
      if (w < 0) break;
      const child = trie.find(h, w);
      if (child >= 0 && !Number.isNaN(logProb[child])) continue; // offered above with its own value
      best.offer(w, values[from + i] + extra);
    }
    store(row, h);
  }
  const codebook = headCodebook(sample.entries().values, bits);
  const codes = emptyCodes(bits, values.length);
  for (let i = 0; i < values.length; i++) if (values[i] > -Infinity) codes[i] = encode(codebook, values[i]);
  return { k, rowOf, rows, words, values, codes, codebook };
}

/** The row serving a context node: its own, or its nearest suffix's when it has no followers. */
export function rowFor(topk: TopK, lm: LanguageModel, node: number): number {
  let s = node;
  while (s !== ROOT && topk.rowOf[s] < 0) s = lm.trie.suffix[s] < 0 ? ROOT : lm.trie.suffix[s];
  return topk.rowOf[s];
}
