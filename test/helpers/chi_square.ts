// Pearson's chi-square goodness-of-fit test for sampling tests: observed draw counts against
// expected probabilities. Cells expected fewer than 5 times are pooled into one cell (the usual
// validity rule); the p-value uses the Wilson-Hilferty normal approximation of the chi-square
// distribution, accurate to about 1e-3 in the tails these tests use.

export interface ChiSquare {
  statistic: number;
  df: number;
  pValue: number;
}

/** Standard normal upper tail, by the complementary error function (Abramowitz-Stegun 7.1.26). */
function normalUpperTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erfc = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

export function chiSquare(observed: ArrayLike<number>, expectedProb: ArrayLike<number>, draws: number): ChiSquare {
  let statistic = 0;
  let cells = 0;
  let pooledObserved = 0;
  let pooledExpected = 0;
  for (let i = 0; i < expectedProb.length; i++) {
    const expected = expectedProb[i]! * draws;
    if (expected < 5) {
      pooledObserved += observed[i]!;
      pooledExpected += expected;
      continue;
    }
    statistic += (observed[i]! - expected) ** 2 / expected;
    cells++;
  }
  if (pooledExpected > 0) {
    statistic += (pooledObserved - pooledExpected) ** 2 / pooledExpected;
    cells++;
  } else if (pooledObserved > 0) {
    statistic = Infinity; // draws where the distribution has no mass
  }
  const df = Math.max(1, cells - 1);
  const z = (Math.cbrt(statistic / df) - (1 - 2 / (9 * df))) / Math.sqrt(2 / (9 * df));
  return { statistic, df, pValue: Number.isFinite(statistic) ? normalUpperTail(z) : 0 };
}
