// Worker thread half of the counting thread (count_parallel.ts): counts the pieces of corpus ids
// it is sent, in order, into one trie, and at the end moves the trie, its counts and the ids
// (with where each n-gram ends in them: NgramPaths) back.
import { parentPort } from 'node:worker_threads';
import { countInto, countingTrie, NodeEnds } from '../../model/corpus_count.js';
import { IdStream } from '../../model/corpus_read.js';
import { ROOT, type NgramTrie, type TrieParts } from '../../model/ngram_trie.js';
import { movableBuffers } from '../../model/shared_arrays.js';

/** What the worker is sent: a start, each piece's ids (whole records, in corpus order), an end. */
export type CountMessage = { start: { order: number; expectedIds: number } } | { ids: Int32Array } | { end: true };

export interface CountResult {
  trie: TrieParts;
  raw: Float64Array;
  cont: Float64Array;
  /** The corpus ids (the first `length`) and NgramPaths.end. */
  ids: Int32Array;
  length: number;
  end: Int32Array;
}

let order = 0;
let trie: NgramTrie | undefined;
let cont: Float64Array = new Float64Array(0);
let ends = new NodeEnds(0);
const all = new IdStream();

parentPort!.on('message', (m: CountMessage) => {
  if ('start' in m) {
    order = m.start.order;
    trie = countingTrie(m.start.expectedIds, order);
    cont = new Float64Array(trie.capacity);
    ends = new NodeEnds(trie.capacity);
  } else if ('ids' in m) {
    // Kept whole, so that an n-gram's end is an index into the corpus.
    const from = all.length;
    all.append(m.ids);
    cont = countInto(trie!, all.view, from, order, Infinity, undefined, cont, ends).cont;
  } else {
    cont[ROOT] = 0; // as countNgrams leaves it
    const t = trie!.toParts();
    const result: CountResult = { trie: t, raw: trie!.slotCounts(), cont, ids: all.ids, length: all.length, end: ends.at };
    parentPort!.postMessage(result, movableBuffers([t.parent, t.word, t.order, t.suffix, t.slots, result.raw, result.cont, result.ids, result.end]));
  }
});
