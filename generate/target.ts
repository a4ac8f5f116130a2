// The distribution of one position, as the decoder draws from it and speculative decoding
// verifies a drafted word against it (decoder.ts for the exact case, sparse_target.ts under controls).
export interface Target {
  probability(word: number): number;
  /** A word drawn from the distribution; with `excluding`, from the rest of it, renormalised. */
  draw(excluding?: number): number;
}

/** Draws from a rejection loop give up after this many (then the full distribution decides). */
const MAX_REJECTIONS = 10_000;

/**
 * The exact distribution as a Target: `exactDraw` draws from it without building it over the
 * vocabulary; a draw excluding a word redraws until it differs (exact for the renormalised rest),
 * and only when that keeps failing (the excluded word holds nearly all the mass) does `full`, the
 * distribution built over the vocabulary, decide.
 */
export function exactTarget(probability: (word: number) => number, exactDraw: () => number, full: () => Target): Target {
  return {
    probability,
    draw: (excluding) => {
      if (excluding === undefined) return exactDraw();
      for (let i = 0; i < MAX_REJECTIONS; i++) {
        const word = exactDraw();
        if (word !== excluding) return word;
      }
      return full().draw(excluding);
    },
  };
}
