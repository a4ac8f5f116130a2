// Quantization of log-probabilities and backoffs to b bits with one codebook per order, binned by
// quantiles as KenLM's -q/-b do: sort the values, cut them into 2^b bins of equal count, and let
// each bin's mean stand for it. Backoffs keep one code for an exact 0 (n-grams that are no
// context), since spending a bin on "no backoff" costs nothing and keeps those entries exact.
// Unigrams stay unquantized, as in KenLM: their table is small and every word reaches it.
import { InputError } from './errors.js';
import type { LanguageModel } from './language_model.js';

export interface Codebook {
  /** Bin centers, ascending. */
  centers: Float64Array;
  /** True when code 0 is reserved for an exact 0. */
  zeroCode: boolean;
}

export function trainCodebook(values: Float64Array, bits: number, reserveZero = false): Codebook {
  const sorted = Float64Array.from(reserveZero ? values.filter((v) => v !== 0) : values).sort();
  const bins = Math.max(1, (1 << bits) - (reserveZero ? 1 : 0));
  const centers: number[] = reserveZero ? [0] : [];
  const used = Math.min(bins, sorted.length);
  for (let b = 0; b < used; b++) {
    const from = Math.floor((b * sorted.length) / used);
    const to = Math.floor(((b + 1) * sorted.length) / used);
    let sum = 0;
    for (let i = from; i < to; i++) sum += sorted[i];
    centers.push(sum / (to - from));
  }
  // The reserved 0 is code 0; the others stay sorted after it.
  const tail = Float64Array.from(centers.slice(reserveZero ? 1 : 0)).sort();
  return { centers: reserveZero ? Float64Array.from([0, ...tail]) : tail, zeroCode: reserveZero };
}

/** The code of the center nearest to v. */
export function encode(book: Codebook, v: number): number {
  const c = book.centers;
  if (book.zeroCode && v === 0) return 0;
  let lo = book.zeroCode ? 1 : 0;
  let hi = c.length - 1;
  if (lo > hi) return 0;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (c[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  const first = book.zeroCode ? 1 : 0;
  return lo > first && v - c[lo - 1] < c[lo] - v ? lo - 1 : lo;
}

export interface QuantizedModel {
  /** The same model with every quantized value replaced by its bin center. */
  lm: LanguageModel;
  bits: number;
  probBooks: Codebook[];
  backoffBooks: Codebook[];
  probCodes: Uint16Array;
  backoffCodes: Uint16Array;
}

export function quantizeModel(lm: LanguageModel, bits = 8): QuantizedModel {
  if (!Number.isInteger(bits) || bits < 1 || bits > 16) throw new InputError(`--bits must be a whole number from 1 to 16, got ${bits}`);
  const { trie, logProb, backoff, order } = lm;
  const probBooks: Codebook[] = [];
  const backoffBooks: Codebook[] = [];
  for (let k = 0; k <= order; k++) {
    const probs: number[] = [];
    const bos: number[] = [];
    if (k >= 2) {
      for (let n = 1; n < trie.size; n++) {
        if (trie.order[n] !== k) continue;
        if (!Number.isNaN(logProb[n])) probs.push(logProb[n]);
        if (k < order) bos.push(backoff[n]);
      }
    }
    probBooks.push(trainCodebook(Float64Array.from(probs), bits));
    backoffBooks.push(trainCodebook(Float64Array.from(bos), bits, true));
  }
  const q: LanguageModel = { ...lm, logProb: Float64Array.from(logProb), backoff: Float64Array.from(backoff) };
  const probCodes = new Uint16Array(trie.size);
  const backoffCodes = new Uint16Array(trie.size);
  for (let n = 1; n < trie.size; n++) {
    const k = trie.order[n];
    if (k < 2) continue;
    if (!Number.isNaN(logProb[n])) {
      probCodes[n] = encode(probBooks[k], logProb[n]);
      q.logProb[n] = probBooks[k].centers[probCodes[n]];
    }
    if (k < order) {
      backoffCodes[n] = encode(backoffBooks[k], backoff[n]);
      q.backoff[n] = backoffBooks[k].centers[backoffCodes[n]];
    }
  }
  return { lm: q, bits, probBooks, backoffBooks, probCodes, backoffCodes };
}
