// Perplexity of running text (one conversation: every line after the ones before it) under the
// n-gram model mixed with the session cache, and the choice of the cache's weight and decay on a
// slice of text that is then not scored. Counts as model/score.ts does (KenLM's query): every
// word and each </s>, OOVs included, lines scored separately by the n-gram model; only the cache
// carries over from line to line.
import type { LanguageModel } from '../model/language_model.js';
import { perplexity, Scorer, type Perplexity, type SentenceScore } from '../model/score.js';
import { EOS, UNK } from '../model/vocab.js';
import { SessionCache, type CacheParams } from './session_cache.js';

/** Perplexity of `lines` (word ids per line, without <s> and </s>) read in order as one conversation; no cache when `params` is null. */
export function runningPerplexity(lm: LanguageModel, lines: readonly (readonly number[])[], params: CacheParams | null, scorer = new Scorer(lm)): Perplexity {
  const cache = params ? new SessionCache(params) : null;
  const scores: SentenceScore[] = [];
  for (const line of lines) {
    scorer.begin();
    let total = 0;
    let oov = 0;
    let oovTotal = 0;
    for (const w of [...line, EOS]) {
      const ngram = scorer.score(w);
      const lp = cache ? Math.log10(cache.mix(w, Math.pow(10, ngram))) : ngram;
      total += lp;
      if (w !== EOS && (w === UNK || lm.unigramNode[w]! < 0)) (oov++, (oovTotal += lp));
      if (cache && SessionCache.caches(w, lm.vocab.word(w))) cache.observe(w);
    }
    scores.push({ total, oov, tokens: line.length + 1, oovTotal });
  }
  return perplexity(scores);
}

export const WEIGHT_GRID = [0.01, 0.02, 0.03, 0.05, 0.08, 0.12, 0.2, 0.3, 0.4];
export const DECAY_GRID = [0.9, 0.97, 0.99, 0.995, 0.998, 0.999, 1];

/** The weight and decay of the grids giving the lowest perplexity (with OOVs) on `tuning`. */
export function tuneCache(lm: LanguageModel, tuning: readonly (readonly number[])[]): { params: CacheParams; perplexity: number } {
  const scorer = new Scorer(lm);
  let best = { params: { weight: WEIGHT_GRID[0]!, decay: DECAY_GRID[0]! }, perplexity: Infinity };
  for (const weight of WEIGHT_GRID) {
    for (const decay of DECAY_GRID) {
      const ppl = runningPerplexity(lm, tuning, { weight, decay }, scorer).includingOov;
      if (ppl < best.perplexity) best = { params: { weight, decay }, perplexity: ppl };
    }
  }
  return best;
}
