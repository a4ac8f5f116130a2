// Children of every node, as one compressed index (CSR): the followers of a context are
// children.nodes[start[h] .. start[h + 1]). Built once in O(nodes) by counting sort on parent,
// because sampling and Top-K enumerate followers while the hash trie only answers lookups.
import type { NgramTrie } from './ngram_trie.js';

export interface ChildIndex {
  start: Int32Array;
  nodes: Int32Array;
}

export function indexChildren(trie: NgramTrie): ChildIndex {
  const size = trie.size;
  const start = new Int32Array(size + 1);
  for (let n = 1; n < size; n++) start[trie.parent[n] + 1]++;
  for (let h = 0; h < size; h++) start[h + 1] += start[h];
  const fill = start.slice(0, size);
  const nodes = new Int32Array(Math.max(0, size - 1));
  for (let n = 1; n < size; n++) nodes[fill[trie.parent[n]]++] = n;
  return { start, nodes };
}
