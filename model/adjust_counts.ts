// Adjusted counts a(g) and counts-of-counts (KenLM's adjust_counts). Kneser-Ney replaces a
// lower-order count by how many distinct words precede the n-gram, since a lower order is only
// consulted when the longer context failed; n-grams that start with <s> cannot be extended to the
// left, so they keep their raw counts, as does the highest order.
import type { NgramCounts } from './corpus_count.js';
import { ROOT } from './ngram_trie.js';
import { BOS, UNK } from './vocab.js';

export interface AdjustedCounts {
  /** adjusted[n]: a(n); 0 for the unigrams <s> and <unk>, and past the last node. */
  adjusted: Float64Array;
  /** countsOfCounts[k][j]: number of order-k n-grams with a = j, j = 1..4 (index 0 unused). */
  countsOfCounts: number[][];
}

export function adjustCounts(counts: NgramCounts): AdjustedCounts {
  const { trie, raw, cont, order } = counts;
  const size = trie.size;
  // Two more than the nodes: room for the <unk> and </s> unigrams interpolation adds when the
  // text had none, so that it reads these counts as they are instead of copying them.
  const adjusted = new Float64Array(size + 2);
  const bosInitial = new Uint8Array(size);
  const countsOfCounts = Array.from({ length: order + 1 }, () => [0, 0, 0, 0, 0]);
  for (let n = 1; n < size; n++) {
    const k = trie.order[n];
    const parent = trie.parent[n];
    const first = parent === ROOT ? trie.word[n] : -1;
    bosInitial[n] = parent === ROOT ? (first === BOS ? 1 : 0) : bosInitial[parent];
    let a: number;
    if (k === 1 && (first === BOS || first === UNK)) a = 0;
    else if (k === order || bosInitial[n]) a = raw[n];
    else a = cont[n];
    adjusted[n] = a;
    if (a > 0 && a <= 4) countsOfCounts[k][a]++;
  }
  return { adjusted, countsOfCounts };
}
