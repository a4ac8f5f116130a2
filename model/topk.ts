// Top-K heads: the K most probable next words of every context, with quantized log10 values, so
// a decoder can sample without touching the whole vocabulary.
//
// Built bottom-up without scanning the vocabulary per context. For an interpolated model every
// stored follower satisfies p(w | h) >= backoff(h) p(w | h'), so each of the K best entries of the
// shorter context h' is worth at least as much under h as any word outside that list; hence
// top-K(h) is the best K of h's own followers and top-K(h') re-weighted: exact for models built by
// dbslm or KenLM (not guaranteed for pruned backoff models, whose stored entries may be smaller).
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
  /** Exact log10 p of each entry (kept for tests and for re-quantizing). */
  values: Float32Array;
  codes: Uint8Array | Uint16Array;
  codebook: Codebook;
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
  const bestW = new Int32Array(k);
  const bestV = new Float64Array(k);
  let filled = 0;
  const offer = (w: number, v: number): void => {
    if (filled === k && !(v > bestV[k - 1] || (v === bestV[k - 1] && w < bestW[k - 1]))) return;
    let i = filled < k ? filled++ : k - 1;
    while (i > 0 && (bestV[i - 1] < v || (bestV[i - 1] === v && bestW[i - 1] > w))) {
      bestV[i] = bestV[i - 1];
      bestW[i] = bestW[i - 1];
      i--;
    }
    bestV[i] = v;
    bestW[i] = w;
  };
  const store = (row: number): void => {
    for (let i = 0; i < filled; i++) {
      words[row * k + i] = bestW[i];
      values[row * k + i] = bestV[i];
    }
  };
  // The empty context: unigram probabilities (every word but <s>).
  filled = 0;
  for (let c = start[ROOT]; c < start[ROOT + 1]; c++) {
    const n = nodes[c];
    if (trie.word[n] !== BOS && !Number.isNaN(logProb[n])) offer(trie.word[n], logProb[n]);
  }
  store(0);
  // Suffixes have smaller ids than the contexts that extend them, so id order is bottom-up.
  for (let h = 1; h < trie.size; h++) {
    const row = rowOf[h];
    if (row < 0) continue;
    filled = 0;
    for (let c = start[h]; c < start[h + 1]; c++) {
      const n = nodes[c];
      if (!Number.isNaN(logProb[n])) offer(trie.word[n], logProb[n]);
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
      offer(w, values[from + i] + extra);
    }
    store(row);
  }
  // Quantiles from an even sample: sorting all rows*k values (35M for KJV order 5) would cost more
  // than building the heads, and a million values pin 256 quantiles down well.
  const stride = Math.max(1, Math.floor(values.length / 1_000_000));
  const sample: number[] = [];
  for (let i = 0; i < values.length; i += stride) if (values[i] > -Infinity) sample.push(values[i]);
  const codebook = trainCodebook(Float64Array.from(sample), bits);
  const codes = bits <= 8 ? new Uint8Array(values.length) : new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) if (values[i] > -Infinity) codes[i] = encode(codebook, values[i]);
  return { k, rowOf, rows, words, values, codes, codebook };
}

/** The row serving a context node: its own, or its nearest suffix's when it has no followers. */
export function rowFor(topk: TopK, lm: LanguageModel, node: number): number {
  let s = node;
  while (s !== ROOT && topk.rowOf[s] < 0) s = lm.trie.suffix[s] < 0 ? ROOT : lm.trie.suffix[s];
  return topk.rowOf[s];
}
