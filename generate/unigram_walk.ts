// The unigram level of a controlled position (sparse_target.ts): its words in order with their
// linear and tempered probabilities, computed once per level object and temperature, and the walk
// that merges them with a position's explicit words, most probable first. The implicit words are
// most of the vocabulary, so a walk is a cursor over typed arrays, not a generator of pairs.
import type { ContextFollowers } from './context_source.js';

export interface UnigramIndex {
  /** Linear p_uni by word id (0 for words without a unigram, <s> included). */
  p: Float64Array;
  /** S_T by 1 / T. */
  powerSums: Map<number, number>;
  /** The words with p_uni > 0 in the unigram level's order (most probable first, ties by id). */
  order: Int32Array;
  /** p_uni^(1/T) of `order`'s words, by 1 / T (the implicit words' values before their scale). */
  powered: Map<number, Float64Array>;
  /** Marks of the explicit words of the position being built (`mark` stamps), by word id. */
  stamps: Int32Array;
  mark: number;
}

const indexes = new WeakMap<ContextFollowers, UnigramIndex>();

/** The unigram level's linear probabilities by word id, computed once per level object (sources cache them). */
export function unigramIndex(level: ContextFollowers, vocabSize: number): UnigramIndex {
  let index = indexes.get(level);
  if (!index) {
    const p = new Float64Array(vocabSize);
    for (let i = 0; i < level.words.length; i++) p[level.words[i]!] = Math.pow(10, level.logProbs[i]!);
    const order = Int32Array.from(level.words.filter((w) => p[w]! > 0));
    index = { p, powerSums: new Map(), order, powered: new Map(), stamps: new Int32Array(vocabSize), mark: 0 };
    indexes.set(level, index);
  }
  return index;
}

export function powerSum(index: UnigramIndex, level: ContextFollowers, inverseT: number): number {
  let sum = index.powerSums.get(inverseT);
  if (sum === undefined) {
    sum = 0;
    for (const w of level.words) sum += Math.pow(index.p[w]!, inverseT);
    index.powerSums.set(inverseT, sum);
  }
  return sum;
}

/** p_uni^(1/T) along the unigram order, computed once per temperature (as `power` computes it). */
export function poweredOrder(index: UnigramIndex, inverseT: number): Float64Array {
  let powered = index.powered.get(inverseT);
  if (!powered) {
    powered = new Float64Array(index.order.length);
    for (let i = 0; i < powered.length; i++) {
      const p = index.p[index.order[i]!]!;
      powered[i] = inverseT === 1 ? p : Math.pow(p, inverseT);
    }
    index.powered.set(inverseT, powered);
  }
  return powered;
}

/**
 * Every word with a value, most probable first: the explicit words (values given, sorted) and the
 * implicit ones (the unigram order, skipping words stamped explicit, each `scale` times its powered
 * unigram) merged, ties by id. A cursor over typed arrays rather than a generator of pairs: a
 * truncation or a draw may walk thousands of implicit words per token.
 */
export class MergedWalk {
  word = -1;
  value = 0;
  private i = 0;
  private j = 0;
  constructor(
    private readonly explicitWords: readonly number[],
    /** Relative to the top explicit word; times `explicitScale` to compare with the implicit ones. */
    private readonly explicitValues: Float64Array,
    private readonly explicitScale: number,
    private readonly index: UnigramIndex,
    private readonly powered: Float64Array,
    private readonly scale: number,
    private readonly mark: number,
  ) {
    this.skipExplicit();
  }

  /** Moves to the next word; false after the last. */
  next(): boolean {
    const { explicitWords, index } = this;
    const hasExplicit = this.i < explicitWords.length;
    const hasImplicit = this.j < index.order.length;
    if (!hasExplicit && !hasImplicit) return false;
    const ew = hasExplicit ? explicitWords[this.i]! : -1;
    const ev = hasExplicit ? this.explicitValues[this.i]! * this.explicitScale : -1;
    const iw = hasImplicit ? index.order[this.j]! : -1;
    const iv = hasImplicit ? this.scale * this.powered[this.j]! : -1;
    if (hasExplicit && (ev > iv || (ev === iv && ew < iw))) {
      this.word = ew;
      this.value = ev;
      this.i++;
    } else {
      this.word = iw;
      this.value = iv;
      this.j++;
      this.skipExplicit();
    }
    return true;
  }

  private skipExplicit(): void {
    const { order, stamps } = this.index;
    while (this.j < order.length && stamps[order[this.j]!] === this.mark) this.j++;
  }
}
