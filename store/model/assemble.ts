// A LanguageModel from entries read in any order (a store's forks answer in no particular order):
// the vocabulary in id order, then each order's n-grams sorted by their word-id tuples, so node ids,
// and with them the ARPA written from the model, are the same whatever the store's layout.
// Pure: no IO.
import { indexUnigrams, type LanguageModel } from '../../model/language_model.js';
import { NgramTrie, ROOT } from '../../model/ngram_trie.js';
import { BOS_TOKEN, EOS_TOKEN, UNK, UNK_TOKEN, Vocab } from '../../model/vocab.js';

/** The n-grams of one order k, in any order: entry i has ids[i*k .. i*k + k), logProb[i], backoff[i]. */
export interface OrderEntries {
  ids: Uint32Array;
  logProb: Float64Array;
  backoff: Float64Array;
}

/** Entry indices of one order sorted by their id tuples (the general case: any contexts). */
function tupleOrder(entries: OrderEntries, k: number): Uint32Array {
  const { ids } = entries;
  const idx = new Uint32Array(entries.logProb.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  return idx.sort((a, b) => {
    for (let i = 0, pa = a * k, pb = b * k; i < k; i++) {
      const d = ids[pa + i]! - ids[pb + i]!;
      if (d !== 0) return d;
    }
    return 0;
  });
}

/** Stable counting sort of `order` by key(i) in [0, range). */
function countingSort(order: Uint32Array, key: (i: number) => number, range: number): Uint32Array {
  const start = new Int32Array(range + 1);
  for (let j = 0; j < order.length; j++) start[key(order[j]!) + 1]!++;
  for (let b = 0; b < range; b++) start[b + 1]! += start[b]!;
  const out = new Uint32Array(order.length);
  for (let j = 0; j < order.length; j++) out[start[key(order[j]!)]!++] = order[j]!;
  return out;
}

/**
 * Entry indices sorted by (context node, word): two stable counting passes, by word then by
 * context, linear where a comparison sort of 10^6 tuples costs a second. Equal to the tuple order
 * when context node ids follow their tuples, as they do when every context is itself an entry of
 * the order below (inserted in tuple order).
 */
function contextOrder(entries: OrderEntries, k: number, contexts: Int32Array, vocabSize: number, nodes: number): Uint32Array {
  const { ids } = entries;
  let order: Uint32Array = new Uint32Array(entries.logProb.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order = countingSort(order, (i) => ids[i * k + k - 1]!, vocabSize);
  return k === 1 ? order : countingSort(order, (i) => contexts[i]!, nodes);
}

/** The vocabulary of `words` (by id), checked: ids 0, 1, 2 are the specials, no word twice. */
export function vocabOf(words: readonly string[]): Vocab {
  const specials = [UNK_TOKEN, BOS_TOKEN, EOS_TOKEN];
  const vocab = new Vocab();
  for (let id = 0; id < words.length; id++) {
    const word = words[id]!;
    if (id < specials.length ? word !== specials[id] : vocab.intern(word) !== id) {
      throw new Error(id < specials.length ? `vocabulary id ${id} is ${JSON.stringify(word)}; ids 0, 1, 2 must be <unk>, <s>, </s>` : `vocabulary id ${id} repeats the word ${JSON.stringify(word)}`);
    }
  }
  return vocab;
}

/**
 * The model of `order` with vocabulary `words` (by id) and `byOrder[k - 1]` the k-gram entries.
 * `warn` hears about a model without <unk>, which gets log10 p = -100 as KenLM substitutes.
 */
export function assembleModel(order: number, words: readonly string[], byOrder: readonly OrderEntries[], warn?: (message: string) => void): LanguageModel {
  const vocab = vocabOf(words);
  const total = byOrder.reduce((s, e) => s + e.logProb.length, 0);
  const trie = new NgramTrie(total + 16);
  let logProb = new Float64Array(trie.capacity).fill(Number.NaN);
  let backoff = new Float64Array(trie.capacity);
  const ensure = (): void => {
    if (trie.capacity === logProb.length) return;
    const lp = new Float64Array(trie.capacity).fill(Number.NaN);
    lp.set(logProb);
    const bo = new Float64Array(trie.capacity);
    bo.set(backoff);
    logProb = lp;
    backoff = bo;
  };
  /** The child of `parent` by `word`, created (suffix to be linked later) when absent. */
  const child = (parent: number, word: number): number => {
    const found = trie.find(parent, word);
    if (found >= 0) return found;
    const made = -trie.findOrInsert(parent, word, -1) - 1;
    ensure();
    return made;
  };

  for (let k = 1; k <= order; k++) {
    const entries = byOrder[k - 1]!;
    const { ids } = entries;
    const n = entries.logProb.length;
    for (let j = 0; j < n * k; j++) if (ids[j]! >= vocab.size) throw new Error(`a ${k}-gram has word id ${ids[j]}, beyond the ${vocab.size}-word vocabulary`);
    // The context node of every entry; a context with no node of its own (-1) takes the general sort.
    const contexts = new Int32Array(n);
    let bare = false;
    for (let i = 0; i < n && !bare; i++) {
      let node = ROOT;
      for (let j = 0; j < k - 1 && node >= 0; j++) node = trie.find(node, ids[i * k + j]!);
      contexts[i] = node;
      bare = node < 0;
    }
    let parent = ROOT;
    let contextAt = -1; // entry whose context `parent` is
    for (const i of bare ? tupleOrder(entries, k) : contextOrder(entries, k, contexts, vocab.size, trie.size)) {
      const at = i * k;
      if (!bare) parent = contexts[i]!;
      else if (k > 1 && !(contextAt >= 0 && sameContext(ids, contextAt * k, at, k - 1))) {
        // A context missing from the model gets a node without an entry (NaN), as readArpa does.
        parent = ROOT;
        for (let j = 0; j < k - 1; j++) parent = child(parent, ids[at + j]!);
        contextAt = i;
      }
      const node = child(parent, ids[at + k - 1]!);
      if (!Number.isNaN(logProb[node]!)) throw new Error(`the ${k}-gram ${Array.from(ids.subarray(at, at + k), (w) => vocab.word(w)).join(' ')} is stored twice`);
      logProb[node] = entries.logProb[i]!;
      backoff[node] = entries.backoff[i]!;
    }
  }
  // Suffix links as readArpa makes them: a parent's id is below its child's, so its link is known.
  for (let n = 1; n < trie.size; n++) {
    const p = trie.parent[n]!;
    trie.suffix[n] = p === ROOT ? ROOT : trie.suffix[p]! < 0 ? -1 : trie.find(trie.suffix[p]!, trie.word[n]!);
  }
  const unk = trie.find(ROOT, UNK);
  if (unk < 0 || Number.isNaN(logProb[unk]!)) {
    warn?.('the model has no <unk>; unknown words get log10 p = -100, as KenLM substitutes');
    const n = unk >= 0 ? unk : -trie.findOrInsert(ROOT, UNK, ROOT) - 1;
    ensure();
    logProb[n] = -100;
  }
  return { order, vocab, trie, logProb, backoff, unigramNode: indexUnigrams(trie, vocab) };
}

function sameContext(ids: Uint32Array, a: number, b: number, n: number): boolean {
  for (let j = 0; j < n; j++) if (ids[a + j] !== ids[b + j]) return false;
  return true;
}
