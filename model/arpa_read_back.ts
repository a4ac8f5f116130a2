// A model as its ARPA file reads back: every value rounded as the ARPA text rounds it (the float32
// shortest text, read as a double), and the backoffs the text leaves out (highest order, n-grams
// ending in </s>) set to 0. A binary model written straight from a build holds these values, so
// that it scores exactly as the ARPA written from the same build does.
import { arpaReadBack } from './float32_text.js';
import type { LanguageModel } from './language_model.js';
import { EOS } from './vocab.js';

export function asArpaReadsBack(lm: LanguageModel): LanguageModel {
  const { trie, order } = lm;
  const logProb = new Float64Array(lm.logProb.length).fill(Number.NaN);
  const backoff = new Float64Array(lm.backoff.length);
  for (let n = 1; n < trie.size; n++) {
    const lp = lm.logProb[n];
    if (Number.isNaN(lp)) continue;
    logProb[n] = arpaReadBack(lp);
    if (trie.order[n] < order && trie.word[n] !== EOS) backoff[n] = arpaReadBack(lm.backoff[n]);
  }
  return { ...lm, logProb, backoff };
}
