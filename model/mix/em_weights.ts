// Mixture weights that minimise the exact mixture's perplexity on a text, by expectation-
// maximisation (as SRILM's compute-best-mix): each round gives every component the average, over
// the tokens, of its posterior share lambda_i p_i(t) / sum_j lambda_j p_j(t). Each round cannot
// lower the likelihood, and the likelihood is concave in the weights, so EM reaches the optimum.
import type { ComponentProbabilities } from './component_probabilities.js';

export interface TunedWeights {
  weights: Float64Array;
  iterations: number;
  /** Total log10 probability of the text under the tuned mixture. */
  log10Total: number;
}

export interface TuneOptions {
  /** Stop when a round improves the mean log10 p per token by less than this. */
  tolerance?: number;
  maxIterations?: number;
  start?: ArrayLike<number>;
}

function logLikelihood(probs: ComponentProbabilities, weights: Float64Array): number {
  let total = 0;
  for (let t = 0; t < probs.tokens; t++) total += Math.log10(probs.mixture(t, weights));
  return total;
}

export function tuneWeights(probs: ComponentProbabilities, opts: TuneOptions = {}): TunedWeights {
  const k = probs.models;
  const tolerance = opts.tolerance ?? 1e-12;
  const maxIterations = opts.maxIterations ?? 10_000;
  let weights = opts.start ? Float64Array.from(opts.start) : new Float64Array(k).fill(1 / k);
  let current = logLikelihood(probs, weights);
  const share = new Float64Array(k);
  let iterations = 0;
  while (iterations < maxIterations) {
    share.fill(0);
    for (let t = 0; t < probs.tokens; t++) {
      const row = t * k;
      const mixed = probs.mixture(t, weights);
      if (!(mixed > 0)) continue;
      for (let i = 0; i < k; i++) share[i] += (weights[i]! * probs.probs[row + i]!) / mixed;
    }
    const next = Float64Array.from(share, (s) => s / probs.tokens);
    const value = logLikelihood(probs, next);
    iterations++;
    if (value < current) break; // only float rounding can do this: keep the better weights
    const gain = (value - current) / Math.max(1, probs.tokens);
    weights = next;
    current = value;
    if (gain < tolerance) break;
  }
  return { weights, iterations, log10Total: current };
}
