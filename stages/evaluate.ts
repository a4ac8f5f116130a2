// evaluate: the finished model scored on held-out text (never the training text: the definition
// names `stages.evaluate.test` inputs apart from `inputs`) and a few sentences sampled from it.
// Pure: the model and the held-out lines come in, the report goes out; the runtime reads the model
// from the store and the files from disk. The perplexity lines are KenLM query's, as `ppl` prints.
import { map } from 'rxjs';
import { detokenize } from '../model/detokenize.js';
import type { LanguageModel } from '../model/language_model.js';
import { lineToIds } from '../model/line_ids.js';
import { seededRandom, Sampler } from '../model/sample.js';
import { formatPerplexity, perplexity, Scorer, type Perplexity, type SentenceScore } from '../model/score.js';
import { getTokenizer, type TokenizerName } from '../model/tokenizer.js';
import type { Stage } from './stage.js';

export interface EvaluateTask {
  lm: LanguageModel;
  tokenizer: TokenizerName;
  /** Held-out text, one sentence per line, by file. */
  tests: { file: string; lines: readonly string[] }[];
  samples: number;
  seed: number;
  /** Longest sampled sentence, in tokens. */
  maxTokens?: number;
}

export interface EvaluateReport {
  /** Null when no held-out text was given. */
  perplexity: Perplexity | null;
  /** KenLM query's summary lines for the held-out text ('' without any). */
  perplexityText: string;
  /** Sampled sentences, detokenized (structural markers never shown). */
  samples: string[];
}

const MAX_SAMPLE_TOKENS = 40;

export function evaluateModel(task: EvaluateTask): EvaluateReport {
  const tokenize = getTokenizer(task.tokenizer);
  let result: Perplexity | null = null;
  if (task.tests.length > 0) {
    const scorer = new Scorer(task.lm);
    const scores: SentenceScore[] = [];
    for (const test of task.tests) for (const line of test.lines) scores.push(scorer.sentence(lineToIds(task.lm.vocab, tokenize, line)));
    result = perplexity(scores);
  }
  const sampler = new Sampler(task.lm, seededRandom(task.seed));
  const samples: string[] = [];
  for (let i = 0; i < task.samples; i++) {
    samples.push(detokenize(sampler.sentence(task.maxTokens ?? MAX_SAMPLE_TOKENS).map((id) => task.lm.vocab.word(id))));
  }
  return { perplexity: result, perplexityText: result ? formatPerplexity(result) : '', samples };
}

export function evaluateStage(): Stage<EvaluateTask, EvaluateReport> {
  return map(evaluateModel);
}
