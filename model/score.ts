// Scoring as an ARPA consumer (KenLM's query) computes it: log10 p(w | h) is the probability of
// the longest stored n-gram ending in w plus the backoffs of every longer stored context. <s> is
// context only; each word and the closing </s> are scored; an unknown word is scored as <unk>
// and stays in the context as <unk>.
import type { LanguageModel } from './language_model.js';
import { hash } from './ngram_trie.js';
import { buildQueryIndex, hasUnigram, homeSlot, type QueryIndex } from './query_index.js';
import { BOS, EOS, UNK } from './vocab.js';

export interface SentenceScore {
  /** Sum of log10 p over the words and </s>. */
  total: number;
  /** Number of out-of-vocabulary words. */
  oov: number;
  /** Words + one </s>. */
  tokens: number;
  /** Sum of the OOV words' own log10 p, which perplexity excluding OOVs leaves out. */
  oovTotal: number;
}

/**
 * The scoring state: slots of the stored suffixes of the history, shortest first (slot j is in
 * the table of order j + 1). Kept in typed arrays and reused, because scoring runs at millions of
 * words per second.
 */
export class Scorer {
  private hist: Int32Array;
  private next: Int32Array;
  private histLen = 0;
  private readonly index: QueryIndex;

  /** From a model (its probing tables are built here), or from the tables alone (a binary model file). */
  constructor(model: LanguageModel | QueryIndex) {
    this.index = 'tables' in model ? model : buildQueryIndex(model);
    this.hist = new Int32Array(this.index.order + 1);
    this.next = new Int32Array(this.index.order + 1);
  }

  /** Starts a sentence: the context is <s>. */
  begin(): void {
    this.histLen = hasUnigram(this.index, BOS) ? 1 : 0;
    this.hist[0] = BOS;
  }

  /** log10 p(word | history) and advances the history by `word`. */
  score(word: number): number {
    const { tables, values, slotCounts, strides, unigramSlot } = this.index;
    const hist = this.hist;
    const next = this.next;
    const histLen = this.histLen;
    const uni = unigramSlot[word];
    let lp = values[1][uni * 3 + 1];
    let matched = 1;
    next[0] = uni;
    let j = 0;
    const deepest = Math.min(histLen, tables.length - 2);
    for (; j < deepest; j++) {
      // hist[j] is a slot of the (j+1)-gram table; its children live in the (j+2)-gram table.
      const parent = hist[j];
      const table = tables[j + 2];
      const slots = slotCounts[j + 2];
      const stride = strides[j + 2];
      let i = homeSlot(hash(parent, word), slots);
      let found = -1;
      for (;;) {
        const at = i * stride;
        const p = table[at];
        if (p === -1) break;
        if (p === parent && table[at + 1] === word) {
          found = i;
          break;
        }
        if (++i === slots) i = 0;
      }
      if (found < 0) break;
      const p = values[j + 2][((found * stride) >> 1) + 1];
      if (p === p) {
        lp = p;
        matched = j + 2;
      }
      next[j + 1] = found;
    }
    // Contexts are below the highest order, whose slots are 6 ints: the backoff is at 3 * slot + 2.
    for (let c = matched - 1; c < histLen; c++) lp += values[c + 1][hist[c] * 3 + 2];
    const max = this.index.order - 1;
    this.histLen = j + 1 < max ? j + 1 : max;
    this.hist = next;
    this.next = hist;
    return lp;
  }

  /** Scores one sentence of word ids (no <s>/</s>; they are implied). */
  sentence(ids: ArrayLike<number>, from = 0, to = ids.length): SentenceScore {
    this.begin();
    let total = 0;
    let oov = 0;
    let oovTotal = 0;
    const index = this.index;
    for (let i = from; i < to; i++) {
      const w = ids[i];
      const lp = this.score(w);
      total += lp;
      if (w === UNK || !hasUnigram(index, w)) {
        oov++;
        oovTotal += lp;
      }
    }
    total += this.score(EOS);
    return { total, oov, tokens: to - from + 1, oovTotal };
  }
}

export interface Perplexity {
  total: number;
  tokens: number;
  oov: number;
  includingOov: number;
  excludingOov: number;
}

export function perplexity(scores: Iterable<SentenceScore>): Perplexity {
  let total = 0;
  let tokens = 0;
  let oov = 0;
  let oovTotal = 0;
  for (const s of scores) {
    total += s.total;
    tokens += s.tokens;
    oov += s.oov;
    oovTotal += s.oovTotal;
  }
  return {
    total,
    tokens,
    oov,
    includingOov: Math.pow(10, -total / tokens),
    excludingOov: Math.pow(10, -(total - oovTotal) / (tokens - oov)),
  };
}

/** The lines KenLM's query prints after scoring. */
export function formatPerplexity(p: Perplexity): string {
  return (
    `Perplexity including OOVs:\t${p.includingOov}\n` +
    `Perplexity excluding OOVs:\t${p.excludingOov}\n` +
    `OOVs:\t${p.oov}\n` +
    `Tokens:\t${p.tokens}\n`
  );
}
