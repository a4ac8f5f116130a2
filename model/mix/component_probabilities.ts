// Every component model's probability of every scored token of a text: what the exact mixture's
// score and the EM weight tuning both read. Each component reads the text with its own scorer
// (model/score.ts, KenLM query's rules), its own vocabulary and its own history, where a word it
// does not know is <unk>; the probability it gives such a word is 0 unless no component knows the
// word (union_vocab.ts explains why), and then it is its <unk> probability.
import { Scorer, type SentenceScore } from '../score.js';
import { EOS } from '../vocab.js';
import type { UnionVocab } from './union_vocab.js';

export class ComponentProbabilities {
  /** probs[t * models + i]: component i's p of token t (linear, not log). */
  probs: Float64Array;
  /** 1 where token t is OOV: no component knows it. */
  oov: Uint8Array;
  /** Tokens per sentence, in order (words + one </s>). */
  readonly sentenceTokens: number[] = [];
  tokens = 0;

  constructor(readonly models: number) {
    this.probs = new Float64Array(1024 * models);
    this.oov = new Uint8Array(1024);
  }

  push(p: ArrayLike<number>, oov: boolean): void {
    if (this.tokens === this.oov.length) {
      const probs = new Float64Array(this.probs.length * 2);
      probs.set(this.probs);
      this.probs = probs;
      const o = new Uint8Array(this.oov.length * 2);
      o.set(this.oov);
      this.oov = o;
    }
    for (let i = 0; i < this.models; i++) this.probs[this.tokens * this.models + i] = p[i]!;
    this.oov[this.tokens] = oov ? 1 : 0;
    this.tokens++;
  }

  /** The mixture's score of each sentence under `weights` (model/score.ts's SentenceScore). */
  sentenceScores(weights: ArrayLike<number>): SentenceScore[] {
    const out: SentenceScore[] = [];
    let t = 0;
    for (const count of this.sentenceTokens) {
      const score: SentenceScore = { total: 0, oov: 0, tokens: count, oovTotal: 0 };
      for (let end = t + count; t < end; t++) {
        const lp = Math.log10(this.mixture(t, weights));
        score.total += lp;
        if (this.oov[t]) {
          score.oov++;
          score.oovTotal += lp;
        }
      }
      out.push(score);
    }
    return out;
  }

  /** sum_i weights[i] p_i(token t). */
  mixture(t: number, weights: ArrayLike<number>): number {
    let p = 0;
    for (let i = 0; i < this.models; i++) p += weights[i]! * this.probs[t * this.models + i]!;
    return p;
  }
}

/** Reads sentences of union ids (no <s>/</s>) and records each component's probabilities. */
export class ComponentScorer {
  readonly result: ComponentProbabilities;
  private readonly scorers: Scorer[];
  private readonly p: Float64Array;

  constructor(private readonly union: UnionVocab) {
    this.scorers = union.models.map((lm) => new Scorer(lm));
    this.result = new ComponentProbabilities(union.models.length);
    this.p = new Float64Array(union.models.length);
  }

  sentence(ids: ArrayLike<number>): void {
    for (const scorer of this.scorers) scorer.begin();
    for (let j = 0; j < ids.length; j++) this.token(ids[j]!);
    this.token(EOS);
    this.result.sentenceTokens.push(ids.length + 1);
  }

  private token(unionId: number): void {
    const oov = this.union.isOov(unionId);
    for (let i = 0; i < this.scorers.length; i++) {
      const own = this.union.toModel[i]![unionId]!;
      const known = own >= 0 && this.union.models[i]!.unigramNode[own]! >= 0;
      // Scored either way: the component's history moves on by the word (as <unk> if unknown).
      const lp = this.scorers[i]!.score(this.union.contextId(i, unionId));
      this.p[i] = known || oov ? 10 ** lp : 0;
    }
    this.result.push(this.p, oov);
  }
}
