// Level 2's session cache: a decaying unigram cache of the conversation's words, mixed with the
// n-gram distribution, as cache language models do (Kuhn and De Mori 1990; Grave et al.'s neural
// cache, 2017):
//
//   p(w | h) = (1 - lambda) * p_ngram(w | h) + lambda * p_cache(w)
//   p_cache(w) = sum_i decay^(t - i) [w_i = w] / sum_i decay^(t - i)
//
// over the words w_1 .. w_t seen so far (markers, <s>, </s> and <unk> are not cached). Both parts
// are distributions, so the mixture is one: it sums to 1 with no renormalisation. Until a word
// is cached the mixture is the n-gram distribution alone. Drawing from it is exact and cheap: with
// probability lambda take a cached word by its weight, otherwise draw from the n-gram model.
import { isMarkerToken } from '../model/tokenize_regex.js';
import { BOS, EOS, UNK } from '../model/vocab.js';

export interface CacheParams {
  /** lambda: the cache's share of the mixture, in [0, 1). */
  weight: number;
  /** Per-word decay of older words' weight, in (0, 1]. */
  decay: number;
}

/** Weights are kept scaled up by 1 / decay^t and rescaled before they overflow. */
const RESCALE_AT = 1e100;

export class SessionCache {
  private readonly weights = new Map<number, number>();
  private total = 0;
  /** The weight a word seen now gets (grows by 1 / decay per word, instead of decaying all others). */
  private unit = 1;
  private vocabWords: ((id: number) => string) | undefined;

  constructor(readonly params: CacheParams) {
    if (!(params.weight >= 0 && params.weight < 1)) throw new RangeError(`cache weight must be in [0, 1), got ${params.weight}`);
    if (!(params.decay > 0 && params.decay <= 1)) throw new RangeError(`cache decay must be in (0, 1], got ${params.decay}`);
  }

  /** Whether a word of this id and text goes into the cache. */
  static caches(id: number, token: string): boolean {
    return id !== UNK && id !== BOS && id !== EOS && !isMarkerToken(token);
  }

  get empty(): boolean {
    return this.total === 0;
  }

  /** An independent copy (speculation advances a copy through drafted words). */
  clone(): SessionCache {
    const copy = new SessionCache(this.params);
    for (const [w, x] of this.weights) copy.weights.set(w, x);
    copy.total = this.total;
    copy.unit = this.unit;
    copy.vocabWords = this.vocabWords;
    return copy;
  }

  /** Observes `word` when it is a cached kind of word (needs the word texts: setVocab). */
  observeIfCached(word: number): void {
    if (this.vocabWords && SessionCache.caches(word, this.vocabWords(word))) this.observe(word);
  }

  /** The texts of word ids, for observeIfCached. */
  setVocab(wordOf: (id: number) => string): this {
    this.vocabWords = wordOf;
    return this;
  }

  /** Adds a word seen in the conversation (callers filter with SessionCache.caches). */
  observe(word: number): void {
    this.unit /= this.params.decay;
    this.weights.set(word, (this.weights.get(word) ?? 0) + this.unit);
    this.total += this.unit;
    if (this.unit > RESCALE_AT) {
      for (const [w, x] of this.weights) this.weights.set(w, x / this.unit);
      this.total /= this.unit;
      this.unit = 1;
    }
  }

  /** The words in the cache. */
  words(): IterableIterator<number> {
    return this.weights.keys();
  }

  cacheProbability(word: number): number {
    return this.total === 0 ? 0 : (this.weights.get(word) ?? 0) / this.total;
  }

  /** The mixture's probability of `word` given the n-gram probability of it. */
  mix(word: number, ngramProbability: number): number {
    if (this.total === 0) return ngramProbability;
    const lambda = this.params.weight;
    return (1 - lambda) * ngramProbability + lambda * this.cacheProbability(word);
  }

  /** Mixes the cache into a full distribution over word ids, in place. */
  mixInto(p: Float64Array): Float64Array {
    if (this.total === 0) return p;
    const lambda = this.params.weight;
    for (let w = 0; w < p.length; w++) p[w]! *= 1 - lambda;
    for (const [w, x] of this.weights) if (w < p.length) p[w]! += (lambda * x) / this.total;
    return p;
  }

  /** With probability lambda a cached word (by weight), else undefined: then draw from the n-gram model. */
  drawCached(random: () => number): number | undefined {
    if (this.total === 0 || random() >= this.params.weight) return undefined;
    let u = random() * this.total;
    let last: number | undefined;
    for (const [w, x] of this.weights) {
      last = w;
      if ((u -= x) < 0) return w;
    }
    return last;
  }
}
