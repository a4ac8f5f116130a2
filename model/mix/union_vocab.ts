// The vocabulary of a mixture: every word of every component model, in the first model's order,
// then each later model's new words in its order. Each component keeps its own ids; `toModel[i]`
// maps a union id to component i's id, or -1 where component i does not know the word, and
// `fromModel[i]` maps component i's ids to union ids.
//
// Unknown words and the mixture: a component that does not know w gives it probability 0, and keeps
// its <unk> mass on <unk>, which in the mixture stands for "a word no component knows". So the
// mixture p(w|h) = sum_i lambda_i p_i(w|h) is a distribution over the union plus <unk> (it sums to 1
// exactly), rather than counting each component's <unk> mass once for every word it lacks.
import type { LanguageModel } from '../language_model.js';
import { UNK, Vocab } from '../vocab.js';

export class UnionVocab {
  readonly vocab = new Vocab();
  /** toModel[i][unionId]: component i's id of the word, or -1. */
  readonly toModel: Int32Array[];
  /** fromModel[i][id]: the union id of component i's word id. */
  readonly fromModel: Int32Array[];

  constructor(readonly models: readonly LanguageModel[]) {
    for (const lm of models) for (const word of lm.vocab.words) this.vocab.intern(word);
    this.toModel = models.map((lm) => {
      const map = new Int32Array(this.vocab.size).fill(-1);
      for (let id = 0; id < lm.vocab.size; id++) map[this.vocab.lookup(lm.vocab.words[id]!)] = id;
      return map;
    });
    this.fromModel = models.map((lm) => Int32Array.from(lm.vocab.words, (w) => this.vocab.lookup(w)));
  }

  get size(): number {
    return this.vocab.size;
  }

  /** Component i's id of a union word, <unk> where it lacks it (as a context word is read). */
  contextId(i: number, unionId: number): number {
    const id = this.toModel[i]![unionId]!;
    return id < 0 ? UNK : id;
  }

  /** True when no component knows the word (it is <unk> in the mixture). */
  isOov(unionId: number): boolean {
    return unionId === UNK || this.toModel.every((map, i) => map[unionId]! < 0 || this.models[i]!.unigramNode[map[unionId]!]! < 0);
  }
}
