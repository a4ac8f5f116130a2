// Mixture weights: one per component model, each >= 0, summing to 1. Given on the command line as
// `--weights 0.7,0.3` (or several values); uniform when absent.
import { InputError } from '../errors.js';

/** The weights to use for `count` models: `given` checked and normalized, or uniform. */
export function mixtureWeights(count: number, given?: readonly (number | string)[]): Float64Array {
  if (given === undefined || given.length === 0) return new Float64Array(count).fill(1 / count);
  const values = given.flatMap((v) => String(v).split(',')).filter((v) => v.trim() !== '').map(Number);
  if (values.length !== count) throw new InputError(`--weights has ${values.length} values for ${count} models`, undefined, undefined, 'give one weight per --model, e.g. --weights 0.7,0.3');
  if (values.some((v) => !Number.isFinite(v) || v < 0)) throw new InputError(`--weights must be numbers >= 0, got ${given.join(',')}`);
  const sum = values.reduce((a, b) => a + b, 0);
  if (!(sum > 0)) throw new InputError('--weights are all 0', undefined, undefined, 'give at least one model a positive weight');
  if (Math.abs(sum - 1) > 1e-6) throw new InputError(`--weights sum to ${sum}, not 1`, undefined, undefined, 'weights are the share of each model: make them sum to 1');
  return Float64Array.from(values, (v) => v / sum);
}

export function formatWeights(weights: ArrayLike<number>): string {
  return Array.from(weights, (w) => w.toFixed(6)).join(',');
}
