// One draw from the exact backoff distribution without materialising it over the vocabulary.
// With u uniform in [0, 1): walk the longest context's followers (most probable first) taking
// their mass p(w | c_0); past them the remaining mass belongs to words c_0 does not store, each
// with backoff(c_0) * p(w | c_1), so walk c_1's followers that c_0 did not cover, and so on down to
// the unigrams. Every word is reached with its exact probability, and a draw usually ends in the
// first few entries of the longest context (its Top-K head) without touching shorter ones.
//
// A model's distribution sums to 1 only up to rounding (ARPA keeps 7 digits); when u is left over
// after the last level the draw is repeated, which renormalises exactly.
import type { ContextFollowers } from './context_source.js';

/** Marks words as covered by a longer context, reset per draw in O(1) by bumping the stamp. */
export class CoverMarks {
  private marks: Uint32Array;
  private stamp = 0;

  constructor(vocabSize: number) {
    this.marks = new Uint32Array(vocabSize);
  }

  next(): void {
    if (++this.stamp === 0xffffffff) {
      this.marks.fill(0);
      this.stamp = 1;
    }
  }

  mark(word: number): void {
    this.marks[word] = this.stamp;
  }

  has(word: number): boolean {
    return this.marks[word] === this.stamp;
  }
}

/**
 * A level's probabilities (10^log10 p), filled as far as draws have walked it. Levels are cached
 * and shared by the draws of every history that has them, and a draw that backs off walks much of
 * a long level (a frequent word's followers, the unigrams): a Math.pow per word per draw made such
 * draws 25-100 µs. Kept beside the level, not in it, as ContextFollowers is the sources' type.
 */
interface LevelProbs {
  probs: Float64Array;
  filled: number;
}
const levelProbs = new WeakMap<ContextFollowers, LevelProbs>();

function probsOf(level: ContextFollowers): LevelProbs {
  let known = levelProbs.get(level);
  if (!known) levelProbs.set(level, (known = { probs: new Float64Array(level.words.length), filled: 0 }));
  return known;
}

/**
 * A word drawn from p(. | history) given the history's levels (backoff_levels.ts), longest first.
 * `levelsRead` (optional) receives how many levels the draw looked at.
 */
export function drawExact(levels: readonly ContextFollowers[], random: () => number, marks: CoverMarks, levelsRead?: { count: number }): number {
  for (let attempt = 0; attempt < 100; attempt++) {
    let u = random();
    marks.next();
    // The product of the backoffs of the levels walked past (10^sum of their log10 backoffs).
    let weight = 1;
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i]!;
      const { words, logProbs, backoff } = level;
      if (levelsRead) levelsRead.count = Math.max(levelsRead.count, i + 1);
      const last = i === levels.length - 1;
      const known = probsOf(level);
      const probs = known.probs;
      for (let j = 0; j < words.length; j++) {
        if (j === known.filled) probs[known.filled++] = Math.pow(10, logProbs[j]!);
        const w = words[j]!;
        if (i > 0 && marks.has(w)) continue;
        const mass = probs[j]! * weight;
        if (u < mass) return w;
        u -= mass;
      }
      if (!last) for (let j = 0; j < words.length; j++) marks.mark(words[j]!);
      weight *= Math.pow(10, backoff);
    }
  }
  throw new Error('the model distribution has no mass to draw from (every word has probability 0)');
}
