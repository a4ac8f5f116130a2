// Counts every n-gram of orders 1..N in one pass over the id stream (KenLM's corpus_count, plus
// the continuation counts that adjust_counts needs, gathered on the fly: a node's continuation
// count is bumped the first time one of its left extensions is seen).
import { NgramTrie, ROOT } from './ngram_trie.js';
import { growSharedInt32, sharedInt32 } from './shared_arrays.js';
import { BOS } from './vocab.js';

export interface NgramCounts {
  order: number;
  trie: NgramTrie;
  /** raw[n]: occurrences of n-gram n. */
  raw: Float64Array;
  /** cont[n]: distinct words v (including <s>) such that "v n" occurs. */
  cont: Float64Array;
  /** Where each n-gram's words lie in the corpus, when the corpus was held whole (NodeEnds). */
  paths?: NgramPaths;
}

/**
 * The corpus ids, and end[n]: the index in them of the last word of n-gram n's first occurrence,
 * for every n-gram counting created. Its words are ids[end[n] - k + 1 .. end[n]], and, since
 * nodes are created in corpus order, reading them node after node walks the corpus forward:
 * formatting the ARPA reads them so (arpa_write.ts) rather than walking each node's parents,
 * scattered over the trie's arrays.
 */
export interface NgramPaths {
  ids: Int32Array;
  end: Int32Array;
}

/** NgramPaths.end as counting fills it, grown with the trie (shared: the ARPA writer's second thread reads it). */
export class NodeEnds {
  at: Int32Array;
  constructor(capacity: number) {
    this.at = sharedInt32(capacity);
  }
  set(node: number, end: number, capacity: number): void {
    if (this.at.length !== capacity) this.at = growSharedInt32(this.at, capacity);
    this.at[node] = end;
  }
}

function grow(a: Float64Array, size: number): Float64Array {
  const b = new Float64Array(size);
  b.set(a);
  return b;
}

/** A trie for counting `ids` ids at `order`. */
export function countingTrie(ids: number, order: number): NgramTrie {
  // Distinct n-grams grow far slower than tokens on real text (KJV: 0.59 per token at order 3,
  // 1.95 at order 5, about (order - 1) / 2), so the trie starts sized for that, at most 2M nodes,
  // and doubles as needed rather than being sized for the worst case (order per token) up front:
  // its hash table is filled when made, and on our VMs memory first touched costs ~1 ms per MB
  // (order 3 of KJV made a 64 MB table for 0.54M n-grams).
  return new NgramTrie(Math.min(Math.ceil((ids * Math.max(1, order - 1)) / 2), 1 << 21));
}

export function countNgrams(ids: Int32Array, order: number, onProgress?: (done: number, total: number) => void): NgramCounts {
  const trie = countingTrie(ids.length, order);
  const ends = new NodeEnds(trie.capacity);
  const { cont } = countInto(trie, ids, 0, order, Infinity, onProgress, undefined, ends);
  const raw = trie.slotCounts();
  cont[ROOT] = 0;
  return { order, trie, raw, cont, paths: { ids, end: ends.at } };
}

/** What the read-ahead in countInto read (kept, so that the reads are not optimised away). */
let warmed = 0;

/**
 * Counts ids[from..] into `trie` until the end, or until the trie holds `maxNodes` nodes at the
 * start of a sentence (the memory-bounded build, count_runs.ts, then spills it and goes on from
 * `end`). `from` must be a sentence start. cont is indexed by node, as in NgramCounts; pass the
 * one a previous call returned to go on counting into the same trie from more ids (a corpus read in
 * pieces: count_runs.ts). `ends`, when given, records where each new n-gram ends in `ids`.
 */
export function countInto(
  trie: NgramTrie,
  ids: Int32Array,
  from: number,
  order: number,
  maxNodes: number,
  onProgress?: (done: number, total: number) => void,
  cont: Float64Array = new Float64Array(trie.capacity),
  ends?: NodeEnds,
): { end: number; cont: Float64Array } {
  let prev = new Int32Array(order + 1);
  let cur = new Int32Array(order + 1);
  let inSentence = 0;
  const step = 1 << 20;
  let i = from;
  for (; i < ids.length; i++) {
    const w = ids[i];
    if (w === BOS) {
      inSentence = 0;
      if (trie.size >= maxNodes && i > from) break;
    }
    inSentence++;
    const top = inSentence < order ? inSentence : order;
    // Every order's key (the previous word's node of order k - 1, w) is known before the first
    // probe: read their slots first, so the misses in a table of tens of MB overlap rather than
    // each probe waiting for its own (counting KJV order 5: 0.44 s instead of 0.50 s of CPU,
    // alternating runs on a quiet machine; less under load).
    let touched = 0;
    for (let k = 1; k <= top; k++) touched ^= trie.touch(prev[k - 1]!, w!);
    warmed ^= touched;
    cur[0] = ROOT;
    for (let k = 1; k <= top; k++) {
      let node = trie.countOrder(k, prev[k - 1], w, cur[k - 1]);
      if (node < 0) {
        node = -node - 1;
        if (trie.capacity !== cont.length) cont = grow(cont, trie.capacity);
        cont[cur[k - 1]]++;
        ends?.set(node, i, trie.capacity);
      }
      cur[k] = node;
    }
    const t = prev;
    prev = cur;
    cur = t;
    if (onProgress && (i & (step - 1)) === 0) onProgress(i, ids.length);
  }
  if (trie.capacity !== cont.length) cont = grow(cont, trie.capacity);
  return { end: i, cont };
}
