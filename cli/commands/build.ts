// `dbslm build`: text in, ARPA out, in-process (the streaming pipeline builds the same model).
import fs from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { buildModel, checkOrder } from '../../model/build.js';
import { decodeUtf8, IdStream, readTokenized, readWhitespace } from '../../model/corpus_read.js';
import { InputError } from '../../model/errors.js';
import { pruneThresholds } from '../../model/prune.js';
import { getTokenizer, parseTokenizerName } from '../../model/tokenizer.js';
import { Vocab } from '../../model/vocab.js';
import { ArpaWriter } from '../io/arpa_parallel.js';
import { expandInputs, readInput } from '../io/inputs.js';
import { Progress } from '../io/progress.js';
import { outputArpaOption, quietOption, tokenizerOption } from '../options.js';
import { runCommand } from '../run_command.js';

interface BuildArgs {
  order: number;
  tokenizer: string;
  'discount-fallback': boolean;
  prune?: string[];
  arpa: string;
  inputs: string[];
  quiet: boolean;
}

export const buildCommand: CommandModule<object, BuildArgs> = {
  command: 'build [inputs..]',
  describe: 'Estimate an interpolated modified Kneser-Ney model from text and write it as ARPA',
  builder: (y: Argv) =>
    y
      .positional('inputs', { type: 'string', array: true, describe: 'Training text: files, directories, or - for stdin (one sentence per line; *.gz is unzipped)' })
      .option('order', { type: 'number', demandOption: true, describe: 'Model order N, 1 to 10 (3 and 5 are common)' })
      .options(outputArpaOption)
      .options(tokenizerOption)
      .option('discount-fallback', { type: 'boolean', default: false, describe: "Use KenLM's fallback discounts 0.5/1/1.5 where counts-of-counts cannot give valid ones" })
      .option('prune', {
        type: 'string',
        array: true,
        describe:
          'Count pruning as lmplz --prune: one threshold per order (0 for unigrams, non-decreasing, the last applies to higher orders); ' +
          'n-grams whose raw count is at or below their order\'s threshold are dropped and their mass goes to the backoffs',
      })
      .options(quietOption)
      .example('$0 build --order 5 --prune 0 1 1 1 1 --arpa kjv5.pruned.arpa config/corpus/kjv.sample.txt', 'drop singleton bigrams and longer')
      .example('$0 build --order 5 --arpa kjv5.arpa config/corpus/kjv.sample.txt', 'a 5-gram model of the bundled corpus') as unknown as Argv<BuildArgs>,
  handler: (args) =>
    runCommand('build', async () => {
      checkOrder(args.order);
      // yargs gives an array option every value up to the next flag, so inputs written after
      // --prune's thresholds land in it: the values from the first one that is not a number on
      // are inputs.
      const pruneValues = args.prune ?? [];
      let split = 0;
      while (split < pruneValues.length && /^[+-]?[\d.]+$/.test(String(pruneValues[split]))) split++;
      const inputs = [...(args.inputs ?? []), ...pruneValues.slice(split).map(String)];
      if (inputs.length === 0) throw new InputError('no training text given', undefined, undefined, 'name files, directories, or - for stdin');
      const prune = pruneThresholds(pruneValues.slice(0, split), args.order);
      const tokenizer = parseTokenizerName(args.tokenizer);
      const files = expandInputs(inputs);
      const largeInput = files.some((f) => f === '-' || fs.statSync(f).size > 1 << 20);
      const writer = new ArpaWriter(largeInput);
      try {
        const vocab = new Vocab();
        const ids = new IdStream();
        const progress = new Progress('dbslm build', !args.quiet);
        progress.phase('reading');
        let bytes = 0;
        for (const file of files) {
          const input = readInput(file);
          bytes += input.bytes.length;
          const text = decodeUtf8(input.bytes, input.name);
          if (tokenizer === 'whitespace') readWhitespace(text, input.name, vocab, ids);
          else readTokenized(text, input.name, getTokenizer(tokenizer), vocab, ids);
        }
        progress.enabled = !args.quiet && bytes > 1 << 20;
        if (vocab.size <= 3) {
          throw new InputError(`the corpus has no words (read ${files.join(', ')})`, undefined, undefined, 'pass a non-empty training text, one sentence per line');
        }
        const built = buildModel(ids.view, vocab, {
          order: args.order,
          discountFallback: args['discount-fallback'],
          prune,
          onPhase: (p) => progress.phase(p),
          onProgress: (_p, d, t) => progress.update(d, t),
        });
        progress.phase(`writing ${args.arpa}`);
        const written = await writer.write(args.arpa, built.lm, built.counts);
        const counts = built.counts.slice(1).join('/');
        progress.enabled = !args.quiet; // the summary line is worth printing even for small inputs
        progress.done(`${ids.length - 2 * ids.sentences} words, ${ids.sentences} sentences; n-grams ${counts}; ${(written / 1e6).toFixed(1)} MB`);
      } finally {
        writer.close();
      }
    }),
};
