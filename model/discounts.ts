// Modified Kneser-Ney discounts D1, D2, D3+ per order from counts-of-counts, with KenLM's
// formula and its refusal rules (Chen & Goodman's estimate).
import { InputError } from './errors.js';

/** discounts[k] = [0, D1, D2, D3+] for order k (index 0 of the outer array unused). */
export type Discounts = number[][];

export const FALLBACK_DISCOUNTS = [0.5, 1, 1.5];

export function estimateDiscounts(countsOfCounts: number[][], order: number, fallback: boolean): Discounts {
  const out: Discounts = [[0, 0, 0, 0]];
  for (let k = 1; k <= order; k++) {
    const t = countsOfCounts[k];
    const y = t[1] / (t[1] + 2 * t[2]);
    const d = [0];
    let problem = '';
    if (t[1] === 0 || t[2] === 0 || t[3] === 0) {
      problem = `counts-of-counts t1=${t[1]} t2=${t[2]} t3=${t[3]} include a zero`;
    } else {
      for (let j = 1; j <= 3; j++) {
        const dj = j - ((j + 1) * y * t[j + 1]) / t[j];
        if (!(dj >= 0 && dj <= j)) problem ||= `discount D${j}=${dj} is outside [0, ${j}]`;
        d.push(dj);
      }
    }
    if (problem) {
      if (!fallback) {
        throw new InputError(
          `cannot estimate modified Kneser-Ney discounts for order ${k}: ${problem}`,
          undefined,
          undefined,
          'the corpus is too small or too repetitive for this order; use more text, a lower --order, ' +
            `or --discount-fallback (D1=${FALLBACK_DISCOUNTS[0]} D2=${FALLBACK_DISCOUNTS[1]} D3+=${FALLBACK_DISCOUNTS[2]}, as KenLM)`,
        );
      }
      out.push([0, ...FALLBACK_DISCOUNTS]);
    } else out.push(d);
  }
  return out;
}
