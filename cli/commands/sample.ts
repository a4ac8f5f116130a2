// `dbslm sample`: sentences drawn from the model's exact backoff distribution.
import type { Argv, CommandModule } from 'yargs';
import { detokenize } from '../../model/detokenize.js';
import { InputError } from '../../model/errors.js';
import { Sampler, seededRandom } from '../../model/sample.js';
import { loadLanguageModel } from '../io/load_model.js';
import { Progress } from '../io/progress.js';
import { MixtureDistribution } from '../../model/mix/mixture_distribution.js';
import { UnionVocab } from '../../model/mix/union_vocab.js';
import { checkMixture, checkModelNamed, mixtureWeightsOf, mixtureWeightsOption, modelFileOf, modelFilesOf, modelFileOptions } from '../options.js';
import { runCommand } from '../run_command.js';

interface SampleArgs {
  model?: string | string[];
  weights?: string;
  arpa?: string;
  n: number;
  'max-tokens': number;
  seed?: number;
  raw: boolean;
}

export const sampleCommand: CommandModule<object, SampleArgs> = {
  command: 'sample',
  describe: 'Draw sentences from a model (or the exact mixture of several) and print them detokenized',
  builder: (y: Argv) =>
    y
      .options(modelFileOptions)
      .check((a) => checkModelNamed(a, false, true) && checkMixture(a))
      .options(mixtureWeightsOption)
      .option('n', { type: 'number', default: 5, describe: 'How many sentences' })
      .option('max-tokens', { type: 'number', default: 40, describe: 'Stop a sentence after this many words' })
      .option('seed', { type: 'number', describe: 'Random seed, for repeatable output (default: random)' })
      .option('raw', { type: 'boolean', default: false, describe: 'Print tokens separated by spaces instead of detokenized text' })
      .example('$0 sample --model kjv5.dbslm --n 3 --seed 7', 'three repeatable samples')
      .example('$0 sample --model a.arpa --model b.arpa --weights 0.7,0.3', 'draws from the exact mixture: each word from model a with probability 0.7, else from b') as unknown as Argv<SampleArgs>,
  handler: (args) =>
    runCommand('sample', () => {
      if (!(Number.isInteger(args.n) && args.n >= 0)) throw new InputError(`--n must be a whole number >= 0, got ${args.n}`);
      if (!(Number.isInteger(args['max-tokens']) && args['max-tokens'] >= 1)) throw new InputError(`--max-tokens must be a whole number >= 1, got ${args['max-tokens']}`);
      const progress = new Progress('dbslm sample', process.stderr.isTTY === true);
      const seed = args.seed ?? Math.floor(Math.random() * 2 ** 32);
      const modelFiles = modelFilesOf(args);
      if (modelFiles.length > 1) {
        const weights = mixtureWeightsOf(args);
        const union = new UnionVocab(modelFiles.map((file) => loadLanguageModel(file, progress)));
        const mixture = new MixtureDistribution(union, weights);
        const random = seededRandom(seed);
        for (let i = 0; i < args.n; i++) {
          const words = mixture.sentence(args['max-tokens'], random).map((id) => union.vocab.word(id));
          process.stdout.write(`${args.raw ? words.join(' ') : detokenize(words)}\n`);
        }
        return;
      }
      const lm = loadLanguageModel(modelFileOf(args), progress);
      const sampler = new Sampler(lm, seededRandom(seed));
      for (let i = 0; i < args.n; i++) {
        const words = sampler.sentence(args['max-tokens']).map((id) => lm.vocab.word(id));
        process.stdout.write(`${args.raw ? words.join(' ') : detokenize(words)}\n`);
      }
    }),
};
