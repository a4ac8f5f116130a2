// The distribution of one position, as the decoder draws from it and speculative decoding
// verifies a drafted word against it (decoder.ts for the exact case, sparse_target.ts under controls).
export interface Target {
  probability(word: number): number;
  /** A word drawn from the distribution; with `excluding`, from the rest of it, renormalised. */
  draw(excluding?: number): number;
}
