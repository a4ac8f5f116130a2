// The exact mixture's next-word distribution and draws from it. A draw picks component i with
// probability lambda_i, then draws from p_i(. | h_i) (h_i: the history in component i's ids):
// that is a draw from sum_i lambda_i p_i(. | h) exactly, without building the sum. The sum itself
// (probabilities) is what the normalization test and the static mix check against.
import { NextWordDistribution } from '../distribution.js';
import { drawIndex } from '../sample.js';
import { BOS, EOS } from '../vocab.js';
import type { UnionVocab } from './union_vocab.js';

export class MixtureDistribution {
  private readonly components: NextWordDistribution[];
  private readonly scratch: Float64Array[];

  constructor(
    readonly union: UnionVocab,
    readonly weights: Float64Array,
  ) {
    this.components = union.models.map((lm) => new NextWordDistribution(lm));
    this.scratch = union.models.map((lm) => new Float64Array(lm.vocab.size));
  }

  private own(i: number, history: ArrayLike<number>): number[] {
    return Array.from(history, (u) => this.union.contextId(i, u));
  }

  /** p(w | history) of the mixture for every union id w (history: union ids, oldest first). */
  probabilities(history: ArrayLike<number>, out: Float64Array = new Float64Array(this.union.size)): Float64Array {
    out.fill(0);
    for (let i = 0; i < this.components.length; i++) {
      const weight = this.weights[i]!;
      if (weight === 0) continue;
      const p = this.components[i]!.probabilities(this.own(i, history), this.scratch[i]);
      const map = this.union.fromModel[i]!;
      for (let w = 0; w < p.length; w++) out[map[w]!] += weight * p[w]!;
    }
    return out;
  }

  /** One word drawn from the mixture after `history` (union ids). */
  draw(history: ArrayLike<number>, random: () => number): number {
    const i = drawIndex(this.weights, random);
    const p = this.components[i]!.probabilities(this.own(i, history), this.scratch[i]);
    return this.union.fromModel[i]![drawIndex(p, random)]!;
  }

  /** A sentence of union ids (without <s> and </s>), at most maxTokens long. */
  sentence(maxTokens: number, random: () => number): number[] {
    const history = [BOS];
    const out: number[] = [];
    while (out.length < maxTokens) {
      const w = this.draw(history, random);
      if (w === EOS) break;
      out.push(w);
      history.push(w);
    }
    return out;
  }
}
