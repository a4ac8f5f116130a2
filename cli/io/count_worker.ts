// Worker thread half of the counting thread (count_parallel.ts): counts the pieces of corpus ids
// it is sent, in order, into one trie, and at the end moves the trie and its counts back.
import { parentPort } from 'node:worker_threads';
import { countInto, countingTrie } from '../../model/corpus_count.js';
import { ROOT, type NgramTrie, type TrieParts } from '../../model/ngram_trie.js';

/** What the worker is sent: a start, each piece's ids (whole records, in corpus order), an end. */
export type CountMessage = { start: { order: number; expectedIds: number } } | { ids: Int32Array } | { end: true };

export interface CountResult {
  trie: TrieParts;
  raw: Float64Array;
  cont: Float64Array;
}

let order = 0;
let trie: NgramTrie | undefined;
let cont: Float64Array = new Float64Array(0);

parentPort!.on('message', (m: CountMessage) => {
  if ('start' in m) {
    order = m.start.order;
    trie = countingTrie(m.start.expectedIds, order);
    cont = new Float64Array(trie.capacity);
  } else if ('ids' in m) {
    cont = countInto(trie!, m.ids, 0, order, Infinity, undefined, cont).cont;
  } else {
    cont[ROOT] = 0; // as countNgrams leaves it
    const result: CountResult = { trie: trie!.toParts(), raw: trie!.slotCounts(), cont };
    const t = result.trie;
    parentPort!.postMessage(result, [t.parent, t.word, t.order, t.suffix, t.slots, result.raw, result.cont].map((a) => a.buffer as ArrayBuffer));
  }
});
