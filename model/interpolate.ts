// Interpolated modified Kneser-Ney probabilities and backoffs (KenLM's initial_probabilities and
// interpolate, fused: node ids are created after their parents and suffixes, so one pass in id
// order sees every lower-order probability before it is needed).
//
//   p(w | h) = (a(hw) - D(a(hw))) / s(h) + gamma(h) p(w | h')
//   gamma(h) = sum over followers w of D(a(hw)) / s(h),   s(h) = sum over w of a(hw)
//
// and the unigrams interpolate with the uniform 1 / (|V| - 1): every word but <s> can follow.
// With count pruning (prune.ts) a pruned n-gram hw keeps its share of s(h), but adds its whole
// a(hw) rather than D(a(hw)) to gamma(h), as lmplz does: the mass it would have kept moves to the
// backoff. Its own entry is dropped (log10 p NaN, which every writer and reader skips).
import type { AdjustedCounts } from './adjust_counts.js';
import type { Discounts } from './discounts.js';
import { indexUnigrams, type LanguageModel } from './language_model.js';
import { NgramTrie, ROOT } from './ngram_trie.js';
import { sharedFloat64 } from './shared_arrays.js';
import { BOS, EOS, UNK, Vocab } from './vocab.js';

export function interpolate(
  trie: NgramTrie,
  vocab: Vocab,
  order: number,
  { adjusted }: AdjustedCounts,
  discounts: Discounts,
  pruned?: Uint8Array,
): LanguageModel {
  // <unk> is always a unigram, even when training saw no unknown word.
  if (trie.find(ROOT, UNK) < 0) trie.findOrInsert(ROOT, UNK, ROOT);
  if (trie.find(ROOT, EOS) < 0) trie.findOrInsert(ROOT, EOS, ROOT);
  const size = trie.size;
  // Read only: a copy only when the two nodes above were added after the counts were adjusted.
  let a = adjusted;
  if (adjusted.length < size) {
    a = new Float64Array(size);
    a.set(adjusted);
  }
  const { parent, suffix, word } = trie;
  const nodeOrder = trie.order;

  // D(a) of order k at [4k + min(a, 3)]: one typed-array load in the loops below, where the
  // nested arrays cost two loads and a conversion of a double index.
  const discount = new Float64Array((order + 1) * 4);
  for (let k = 1; k <= order; k++) for (let j = 1; j <= 3; j++) discount[4 * k + j] = discounts[k][j];
  const total = new Float64Array(size); // s(h)
  const discounted = new Float64Array(size); // sum of D(a(hw)) over followers
  let unigrams = 0;
  for (let n = 1; n < size; n++) {
    const h = parent[n];
    if (h === ROOT) unigrams++;
    const an = a[n];
    if (an <= 0) continue;
    total[h] += an;
    discounted[h] += pruned !== undefined && n < pruned.length && pruned[n] ? an : discount[4 * nodeOrder[n] + (an < 3 ? an : 3)];
  }
  const uniform = 1 / (unigrams - 1);

  // p of every node, then turned into log10 p in place: the lower-order p a node interpolates
  // with is its suffix's, a node made before it, so p is needed until the last node is done.
  // (One array less at the build's peak: on VMs, memory faulted in costs about 1 ms per MB.)
  // Shared: the ARPA writer's second thread reads them (shared_arrays.ts).
  const logProb = sharedFloat64(size);
  const prob = logProb;
  const backoff = sharedFloat64(size);
  for (let n = 1; n < size; n++) {
    const h = parent[n];
    if (pruned !== undefined && n < pruned.length && pruned[n]) continue; // p 0 here, NaN at the end
    if (h === ROOT && word[n] === BOS) prob[n] = 1;
    else {
      const an = a[n];
      const d = an <= 0 ? 0 : discount[4 * nodeOrder[n] + (an < 3 ? an : 3)];
      const lower = h === ROOT ? uniform : prob[suffix[n]];
      prob[n] = (an - d) / total[h] + (discounted[h] / total[h]) * lower;
    }
    if (total[n] > 0) backoff[n] = Math.log10(discounted[n] / total[n]);
  }
  for (let n = 1; n < size; n++) logProb[n] = pruned !== undefined && n < pruned.length && pruned[n] ? Number.NaN : Math.log10(prob[n]);
  return { order, vocab, trie, logProb, backoff, unigramNode: indexUnigrams(trie, vocab) };
}
