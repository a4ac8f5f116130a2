// The full next-word distribution p(. | h) of a backoff model, exactly as scoring defines it:
// start from the unigrams scaled by every backoff of the history, then let each longer stored
// context overwrite its own followers. Every word but <s> gets mass; the result sums to 1 for a
// properly normalised model (the normalisation test checks this against KenLM's conventions).
import { indexChildren, type ChildIndex } from './children.js';
import type { LanguageModel } from './language_model.js';
import { ROOT } from './ngram_trie.js';
import { BOS, UNK } from './vocab.js';

export class NextWordDistribution {
  readonly children: ChildIndex;
  /** log10 p of each word's unigram; -Infinity for <s>. */
  private readonly unigramLog: Float64Array;

  constructor(readonly lm: LanguageModel) {
    this.children = indexChildren(lm.trie);
    const v = lm.vocab.size;
    this.unigramLog = new Float64Array(v).fill(-Infinity);
    for (let w = 0; w < v; w++) {
      const n = lm.unigramNode[w];
      if (w !== BOS && n >= 0 && !Number.isNaN(lm.logProb[n])) this.unigramLog[w] = lm.logProb[n];
    }
  }

  /**
   * The stored suffixes of a history (word ids, oldest first), shortest first: the contexts
   * that scoring would consult, limited to order-1 words.
   */
  contexts(history: ArrayLike<number>): number[] {
    const { trie, unigramNode, order } = this.lm;
    const out: number[] = [];
    const from = Math.max(0, history.length - (order - 1));
    for (let len = 1; len <= history.length - from; len++) {
      let node = ROOT;
      for (let i = history.length - len; i < history.length && node >= 0; i++) {
        const w = history[i];
        node = node === ROOT ? (unigramNode[w] >= 0 ? unigramNode[w] : unigramNode[UNK]) : trie.find(node, w);
      }
      if (node < 0) break;
      out.push(node);
    }
    return out;
  }

  /**
   * log10 p(word | history) of one word, as scoring (model/score.ts) reads it: the longest stored
   * n-gram ending in the word, plus the backoffs of the longer stored contexts.
   */
  logProbability(history: ArrayLike<number>, word: number): number {
    const { logProb, backoff, trie, unigramNode } = this.lm;
    const ctx = this.contexts(history);
    const unigram = unigramNode[word] >= 0 ? unigramNode[word] : unigramNode[UNK];
    let lp = logProb[unigram];
    let matched = 0;
    for (let i = 0; i < ctx.length; i++) {
      const child = trie.find(ctx[i], word);
      if (child < 0) break;
      if (logProb[child] === logProb[child]) {
        lp = logProb[child];
        matched = i + 1;
      }
    }
    for (let i = matched; i < ctx.length; i++) lp += backoff[ctx[i]];
    return lp;
  }

  /** p(w | history) for every word id w, as linear probabilities. */
  probabilities(history: ArrayLike<number>, out: Float64Array = new Float64Array(this.lm.vocab.size)): Float64Array {
    const { logProb, backoff, trie } = this.lm;
    const ctx = this.contexts(history);
    // suffixBackoff[i]: sum of backoffs of contexts longer than ctx[i - 1] (i = 0: all of them).
    const suffixBackoff = new Float64Array(ctx.length + 1);
    for (let i = ctx.length - 1; i >= 0; i--) suffixBackoff[i] = suffixBackoff[i + 1] + backoff[ctx[i]];
    const base = suffixBackoff[0];
    for (let w = 0; w < out.length; w++) out[w] = Math.pow(10, this.unigramLog[w] + base);
    const { start, nodes } = this.children;
    for (let i = 0; i < ctx.length; i++) {
      const h = ctx[i];
      const scale = suffixBackoff[i + 1];
      for (let c = start[h]; c < start[h + 1]; c++) {
        const n = nodes[c];
        const lp = logProb[n];
        if (lp === lp) out[trie.word[n]] = Math.pow(10, lp + scale);
      }
    }
    return out;
  }
}
