// Drawing sentences from the model's exact backoff distribution, with a seedable generator so a
// run can be repeated.
import { NextWordDistribution } from './distribution.js';
import type { LanguageModel } from './language_model.js';
import { BOS, EOS } from './vocab.js';

/** mulberry32: small, fast, and good enough for sampling; seeded for reproducible output. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Index i with probability weights[i] / sum(weights). */
export function drawIndex(weights: Float64Array, random: () => number): number {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) sum += weights[i];
  let u = random() * sum;
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i];
    if (u < 0) return i;
  }
  for (let i = weights.length - 1; i >= 0; i--) if (weights[i] > 0) return i;
  return 0;
}

export class Sampler {
  private readonly dist: NextWordDistribution;
  private readonly probs: Float64Array;

  constructor(
    lm: LanguageModel,
    private readonly random: () => number,
  ) {
    this.dist = new NextWordDistribution(lm);
    this.probs = new Float64Array(lm.vocab.size);
  }

  /** The next word after `history` (word ids starting with <s>). */
  next(history: ArrayLike<number>): number {
    return drawIndex(this.dist.probabilities(history, this.probs), this.random);
  }

  /** A sentence of word ids (without <s> and </s>), at most maxTokens long. */
  sentence(maxTokens: number): number[] {
    const history = [BOS];
    const out: number[] = [];
    while (out.length < maxTokens) {
      const w = this.next(history);
      if (w === EOS) break;
      out.push(w);
      history.push(w);
    }
    return out;
  }
}
