// Text files read against a mixture (ppl with several --model, dbslm mix --tune/--test): every
// component's probability of every token, for scoring with given weights or tuning them.
import { lineToIds, type LineTokenizer } from '../../model/line_ids.js';
import { ComponentScorer, type ComponentProbabilities } from '../../model/mix/component_probabilities.js';
import type { UnionVocab } from '../../model/mix/union_vocab.js';
import { expandInputs, readLines } from './inputs.js';

export function mixtureOfText(union: UnionVocab, tokenize: LineTokenizer, inputs: readonly string[]): ComponentProbabilities {
  const scorer = new ComponentScorer(union);
  for (const file of expandInputs(inputs)) for (const line of readLines(file)) scorer.sentence(lineToIds(union.vocab, tokenize, line));
  return scorer.result;
}
