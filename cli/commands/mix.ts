// `dbslm mix`: linear mixing of models (SRILM's -mix-lm and compute-best-mix). Tunes the weights
// by EM on a dev text, reports the exact mixture's perplexity, and writes one static backoff model
// standing for the mixture (model/mix/static_mix.ts).
import type { Argv, CommandModule } from 'yargs';
import { formatFloat32 } from '../../model/float32_text.js';
import { InputError } from '../../model/errors.js';
import { tuneWeights } from '../../model/mix/em_weights.js';
import { staticMix } from '../../model/mix/static_mix.js';
import { UnionVocab } from '../../model/mix/union_vocab.js';
import { formatWeights, mixtureWeights } from '../../model/mix/weights.js';
import { perplexity, Scorer, type Perplexity } from '../../model/score.js';
import { getTokenizer, parseTokenizerName } from '../../model/tokenizer.js';
import { lineToIds, type LineTokenizer } from '../../model/line_ids.js';
import type { LanguageModel } from '../../model/language_model.js';
import type { Vocab } from '../../model/vocab.js';
import { ArpaWriter } from '../io/arpa_parallel.js';
import { expandInputs, readLines } from '../io/inputs.js';
import { loadLanguageModel } from '../io/load_model.js';
import { mixtureOfText } from '../io/mixture_text.js';
import { Progress } from '../io/progress.js';
import { quietOption, tokenizerOption } from '../options.js';
import { runCommand } from '../run_command.js';

interface MixArgs {
  model: string[];
  weights?: string[];
  tune?: string[];
  out?: string;
  tokenizer: string;
  quiet: boolean;
}

const ppl = (p: Perplexity) => `perplexity ${p.includingOov.toFixed(4)} (excluding OOVs ${p.excludingOov.toFixed(4)}; total log10 ${formatFloat32(p.total)}, ${p.tokens} tokens, ${p.oov} OOV)`;

/** The perplexity of one backoff model on text files, as `dbslm ppl` computes it. */
function scoreFiles(lm: LanguageModel, vocab: Vocab, tokenize: LineTokenizer, inputs: string[]): Perplexity {
  const scorer = new Scorer(lm);
  return perplexity(expandInputs(inputs).flatMap((file) => readLines(file).map((line) => scorer.sentence(lineToIds(vocab, tokenize, line)))));
}

export const mixCommand: CommandModule<object, MixArgs> = {
  command: 'mix',
  describe: 'Mix models linearly: tune the weights on a dev text (EM) and write one static backoff model',
  builder: (y: Argv) =>
    y
      .option('model', { type: 'string', array: true, demandOption: true, describe: 'A component model (ARPA, gzipped ARPA or binary, recognised by content); give --model once per component, two or more' })
      .option('weights', { type: 'string', array: true, describe: 'One weight per --model, e.g. --weights 0.7,0.3 (default: uniform; with --tune: where EM starts)' })
      .option('tune', { type: 'string', array: true, describe: 'Dev text (files, directories, - for stdin): find the weights that minimise the exact mixture\'s perplexity on it, by EM' })
      .option('out', { type: 'string', describe: 'Write the static mixed model here as ARPA: the union of the n-grams, mixed probabilities, backoffs recomputed so it is normalized' })
      .options(tokenizerOption)
      .options(quietOption)
      .check((a) => {
        if ((a.model as string[]).length < 2) throw new Error('Give two or more --model to mix');
        if (a.tune === undefined && a.out === undefined) throw new Error('Say what to do: --tune DEV.txt (find the weights), --out OUT.arpa (write the static model), or both');
        return true;
      })
      .example('$0 mix --model a.arpa --model b.arpa --tune dev.txt', 'EM weights and the mixture\'s perplexity on dev.txt')
      .example('$0 mix --model a.arpa --model b.arpa --tune dev.txt --out ab.arpa', 'the same, then the static model with those weights')
      .example('$0 ppl --model a.arpa --model b.arpa --weights 0.6,0.4 test.txt', 'score the exact mixture (ppl, sample) without a static model') as unknown as Argv<MixArgs>,
  handler: (args) =>
    runCommand('mix', async () => {
      const tokenize = getTokenizer(parseTokenizerName(args.tokenizer));
      const progress = new Progress('dbslm mix', !args.quiet && process.stderr.isTTY === true);
      const models = args.model.map((file) => loadLanguageModel(file, progress));
      const union = new UnionVocab(models);
      let weights = mixtureWeights(models.length, args.weights);
      const out: string[] = [];
      let dev: ReturnType<typeof mixtureOfText> | null = null;
      if (args.tune) {
        if (expandInputs(args.tune).length === 0) throw new InputError(`--tune ${args.tune.join(' ')} names no text files`);
        progress.phase('scoring the dev text under every model');
        dev = mixtureOfText(union, tokenize, args.tune);
        if (dev.tokens === 0) throw new InputError(`the dev text (${args.tune.join(' ')}) has no lines`, undefined, undefined, 'give --tune a text with held-out sentences, one per line');
        progress.phase('tuning the weights (EM)');
        const tuned = tuneWeights(dev, { start: weights });
        weights = tuned.weights;
        progress.endPhase();
        // Each model alone, with its own vocabulary and OOVs, as `dbslm ppl` scores it.
        models.forEach((lm, i) => out.push(`model ${i + 1} ${args.model[i]}: weight ${weights[i]!.toFixed(6)}; alone on dev: ${ppl(scoreFiles(lm, lm.vocab, tokenize, args.tune!))}`));
        out.push(`weights ${formatWeights(weights)} (EM, ${tuned.iterations} iterations)`);
        out.push(`exact mixture on dev: ${ppl(perplexity(dev.sentenceScores(weights)))}`);
      }
      if (args.out) {
        progress.phase('mixing the n-grams');
        const mixed = staticMix(union, weights);
        if (mixed.saturated > 0) process.stderr.write(`warning: ${mixed.saturated} contexts leave no mass to back off with; their backoff is written as -99\n`);
        progress.phase(`writing ${args.out}`);
        const writer = new ArpaWriter(false);
        writer.start(mixed.lm.trie.size - 1);
        try {
          await writer.write(args.out, mixed.lm, mixed.counts);
        } finally {
          writer.close();
        }
        progress.endPhase();
        out.push(`static model ${args.out}: weights ${formatWeights(weights)}; n-grams ${mixed.counts.slice(1).join('/')}`);
        if (args.tune) out.push(`static model on dev: ${ppl(scoreFiles(mixed.lm, union.vocab, tokenize, args.tune))}`);
      }
      process.stdout.write(out.join('\n') + '\n');
    }),
};
