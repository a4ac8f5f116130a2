// One backoff model standing for a mixture (SRILM's static `-mix-lm`): its n-grams are the union
// of the components' entries, each with the exact mixture's probability
//
//   p(w | h) = sum_i lambda_i p_i(w | h)        (p_i read as scoring reads component i)
//
// and each context's backoff recomputed so that the model is normalized:
//
//   bo(h) = (1 - sum_{w: hw stored} p(w | h)) / (1 - sum_{w: hw stored} p_static(w | h'))
//
// with h' = h without its first word, read from this model (shorter contexts are finished first).
// Words after h that no component stores get bo(h) p_static(w | h'), where the exact mixture would
// give sum_i lambda_i p_i(w | h) with each component's own backoffs: a single backoff model cannot
// equal a mixture there, so the static model approximates it (as SRILM's does). Unigram <s> keeps
// log10 p = 0 (never predicted), as the components write it.
import { indexChildren } from '../children.js';
import { NextWordDistribution } from '../distribution.js';
import { entryCounts, indexUnigrams, type LanguageModel } from '../language_model.js';
import { NgramTrie, ROOT } from '../ngram_trie.js';
import { BOS, UNK } from '../vocab.js';
import type { UnionVocab } from './union_vocab.js';

export interface StaticMix {
  lm: LanguageModel;
  /** Entries per order, index 0 unused (the ARPA header's counts). */
  counts: number[];
  /** Contexts whose stored followers took all the mass (backoff written as log10 p = -99). */
  saturated: number;
}

/** The union trie of the components' n-grams, and for each component the map of its nodes into it. */
function unionTrie(union: UnionVocab): { trie: NgramTrie; entry: Uint8Array } {
  const models = union.models;
  const trie = new NgramTrie(models.reduce((s, lm) => s + lm.trie.size, 0));
  const inUnion: Int32Array[] = [];
  models.forEach((lm, i) => {
    const at = new Int32Array(lm.trie.size).fill(-1);
    at[ROOT] = ROOT;
    const toUnion = union.fromModel[i]!;
    // Node ids grow from parent to child, so a parent is always placed first.
    for (let n = 1; n < lm.trie.size; n++) {
      const parent = at[lm.trie.parent[n]!]!;
      const word = toUnion[lm.trie.word[n]!]!;
      const found = trie.find(parent, word);
      at[n] = found >= 0 ? found : -trie.findOrInsert(parent, word, -1) - 1;
    }
    inUnion.push(at);
  });
  const entry = new Uint8Array(trie.size);
  models.forEach((lm, i) => {
    for (let n = 1; n < lm.trie.size; n++) if (!Number.isNaN(lm.logProb[n])) entry[inUnion[i]![n]!] = 1;
  });
  // Suffix links, as the ARPA reader sets them (a parent's suffix is known before its children's).
  for (let n = 1; n < trie.size; n++) {
    const p = trie.parent[n]!;
    trie.suffix[n] = p === ROOT ? ROOT : trie.suffix[p]! < 0 ? -1 : trie.find(trie.suffix[p]!, trie.word[n]!);
  }
  return { trie, entry };
}

export function staticMix(union: UnionVocab, weights: Float64Array): StaticMix {
  const models = union.models;
  const order = Math.max(...models.map((lm) => lm.order));
  const { trie, entry } = unionTrie(union);
  const size = trie.size;
  const components = models.map((lm) => new NextWordDistribution(lm));
  const logProb = new Float64Array(size).fill(Number.NaN);
  const backoff = new Float64Array(size);

  // The mixture's probability of every stored n-gram, in component ids (unknown context words are <unk>).
  for (let n = 1; n < size; n++) {
    if (!entry[n]) continue;
    const word = trie.word[n]!;
    if (trie.parent[n] === ROOT && word === BOS) {
      logProb[n] = 0;
      continue;
    }
    const context = trie.path(trie.parent[n]!);
    let p = 0;
    for (let i = 0; i < models.length; i++) {
      const own = union.toModel[i]![word]!;
      if (weights[i] === 0 || (own < 0 && word !== UNK)) continue;
      const history = context.map((u) => union.contextId(i, u));
      p += weights[i]! * 10 ** components[i]!.logProbability(history, own < 0 ? UNK : own);
    }
    logProb[n] = p > 0 ? Math.log10(p) : -99;
  }

  const vocab = union.vocab;
  const lm: LanguageModel = { order, vocab, trie, logProb, backoff, unigramNode: indexUnigrams(trie, vocab) };
  const mixed = new NextWordDistribution(lm);
  const { start, nodes } = indexChildren(trie);
  // Contexts by length, shortest first: bo(h) reads p_static(. | h'), which needs the shorter backoffs.
  const byOrder: number[][] = Array.from({ length: order }, () => []);
  // (A context stored only as a prefix has no line of its own in ARPA, so no backoff to write: 0.)
  for (let n = 1; n < size; n++) if (entry[n] && trie.order[n]! < order && start[n + 1]! > start[n]!) byOrder[trie.order[n]!]!.push(n);
  let saturated = 0;
  for (let k = 1; k < order; k++) {
    for (const h of byOrder[k]!) {
      const shorter = trie.path(h).slice(1);
      let stored = 0;
      let lower = 0;
      let any = false;
      for (let c = start[h]!; c < start[h + 1]!; c++) {
        const child = nodes[c]!;
        if (!entry[child]) continue;
        any = true;
        stored += 10 ** logProb[child]!;
        lower += 10 ** mixed.logProbability(shorter, trie.word[child]!);
      }
      if (!any) continue;
      const numerator = 1 - stored;
      const denominator = 1 - lower;
      if (numerator <= 0 || denominator <= 0) {
        backoff[h] = -99;
        saturated++;
      } else backoff[h] = Math.log10(numerator / denominator);
    }
  }
  return { lm, counts: entryCounts(lm), saturated };
}
