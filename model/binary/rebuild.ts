// The LanguageModel of a binary model file, for what needs the trie (sampling, Top-K heads,
// quantizing, writing ARPA): rebuilt on demand from the tables and the n-grams' slots in model
// order, so the nodes come out in the order of the model the file was made from, and the ARPA
// written from them is byte-identical to that model's. Scoring never pays for this.
import { indexUnigrams, type LanguageModel } from '../language_model.js';
import { NgramTrie, ROOT } from '../ngram_trie.js';
import { backoffAt, contextAt, probAt, slotCount, wordAt } from '../query_index.js';
import type { BinaryModel } from './model_file.js';

/** From a binary model's tables, or an ARPA file's read straight into tables (arpa_query_index.ts). */
export function rebuildLanguageModel(bm: Pick<BinaryModel, 'index' | 'nodeSlots' | 'vocab'>): LanguageModel {
  const { index, nodeSlots, vocab } = bm;
  const { order, unigramSlot } = index;
  let total = vocab.size;
  for (let k = 2; k <= order; k++) total += nodeSlots[k].length;
  const trie = new NgramTrie(total + 1);
  const logProb = new Float64Array(trie.capacity).fill(Number.NaN);
  const backoff = new Float64Array(trie.capacity);
  // nodeOf[k][slot]: the trie node of the slot of order k (the parent lookup of order k + 1).
  let nodeOf = new Int32Array(vocab.size);
  for (let w = 0; w < vocab.size; w++) {
    if (unigramSlot[w] !== w) continue;
    const n = -trie.findOrInsertOrder(1, ROOT, w, ROOT) - 1;
    nodeOf[w] = n;
    logProb[n] = probAt(index, 1, w);
    backoff[n] = backoffAt(index, 1, w);
  }
  for (let k = 2; k <= order; k++) {
    const slots = nodeSlots[k];
    const next = new Int32Array(slotCount(index, k));
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i];
      const n = -trie.findOrInsertOrder(k, nodeOf[contextAt(index, k, s)], wordAt(index, k, s), -1) - 1;
      next[s] = n;
      logProb[n] = probAt(index, k, s);
      backoff[n] = backoffAt(index, k, s);
    }
    nodeOf = next;
  }
  trie.linkSuffixes();
  return { order, vocab, trie, logProb, backoff, unigramNode: indexUnigrams(trie, vocab) };
}
