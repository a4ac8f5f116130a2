// A backoff language model as ARPA describes it: for each stored n-gram a log10 probability and,
// below the highest order, a log10 backoff weight. Built models and loaded ARPA files share this
// shape, so scoring, sampling, quantization and Top-K never care where a model came from.
import { NgramTrie, ROOT } from './ngram_trie.js';
import { Vocab } from './vocab.js';

export interface LanguageModel {
  order: number;
  vocab: Vocab;
  trie: NgramTrie;
  /** log10 p of each node's n-gram; NaN for a node stored only as a prefix (no entry of its own). */
  logProb: Float64Array;
  /** log10 backoff of each node as a context; 0 where the model stores none. */
  backoff: Float64Array;
  /** unigramNode[wordId]: the node of the unigram, or -1 (lookups skip one hash probe per word). */
  unigramNode: Int32Array;
}

export function indexUnigrams(trie: NgramTrie, vocab: Vocab): Int32Array {
  const out = new Int32Array(vocab.size).fill(-1);
  for (let w = 0; w < vocab.size; w++) out[w] = trie.find(ROOT, w);
  return out;
}

/** Number of entries (nodes with a probability) of each order; index 0 unused. */
export function entryCounts(lm: LanguageModel): number[] {
  const counts = new Array<number>(lm.order + 1).fill(0);
  for (let n = 1; n < lm.trie.size; n++) if (!Number.isNaN(lm.logProb[n])) counts[lm.trie.order[n]]++;
  return counts;
}
