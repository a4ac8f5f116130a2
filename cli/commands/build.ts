// `dbslm build`: text in, ARPA and/or binary model out, in-process (the streaming pipeline builds the same model).
import fs from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { buildModel, checkOrder } from '../../model/build.js';
import { decodeUtf8, IdStream, readTokenized, readWhitespace } from '../../model/corpus_read.js';
import { InputError } from '../../model/errors.js';
import { getTokenizer, parseTokenizerName } from '../../model/tokenizer.js';
import { Vocab } from '../../model/vocab.js';
import { ArpaWriter } from '../io/arpa_parallel.js';
import { topkIndexOptions, topkOptionsOf, writeBinaryModel } from '../io/write_model.js';
import { expandInputs, readInput } from '../io/inputs.js';
import { Progress } from '../io/progress.js';
import { outputArpaOption, quietOption, tokenizerOption } from '../options.js';
import { runCommand } from '../run_command.js';

interface BuildArgs {
  order: number;
  tokenizer: string;
  'discount-fallback': boolean;
  arpa?: string;
  binary?: string;
  topk?: number;
  'topk-bits': number;
  inputs: string[];
  quiet: boolean;
}

export const buildCommand: CommandModule<object, BuildArgs> = {
  command: 'build <inputs..>',
  describe: 'Estimate an interpolated modified Kneser-Ney model from text and write it as ARPA and/or binary',
  builder: (y: Argv) =>
    y
      .positional('inputs', { type: 'string', array: true, describe: 'Training text: files, directories, or - for stdin (one sentence per line; *.gz is unzipped)' })
      .option('order', { type: 'number', demandOption: true, describe: 'Model order N, 1 to 10 (3 and 5 are common)' })
      .options({ arpa: { ...outputArpaOption.arpa, demandOption: false } })
      .option('binary', { type: 'string', describe: 'Where to write the model as a dbslm binary file (loads in milliseconds; with or without --arpa)' })
      .options(topkIndexOptions)
      .check((a) => {
        if (a.arpa === undefined && a.binary === undefined) throw new Error('Name the output: --arpa FILE, --binary FILE, or both');
        return true;
      })
      .options(tokenizerOption)
      .option('discount-fallback', { type: 'boolean', default: false, describe: "Use KenLM's fallback discounts 0.5/1/1.5 where counts-of-counts cannot give valid ones" })
      .options(quietOption)
      .example('$0 build --order 5 --arpa kjv5.arpa config/corpus/kjv.sample.txt', 'a 5-gram model of the bundled corpus')
      .example('$0 build --order 5 --binary kjv5.dbslm config/corpus/kjv.sample.txt', 'the same as a binary model') as unknown as Argv<BuildArgs>,
  handler: (args) =>
    runCommand('build', async () => {
      checkOrder(args.order);
      const tokenizer = parseTokenizerName(args.tokenizer);
      const files = expandInputs(args.inputs);
      const largeInput = files.some((f) => f === '-' || fs.statSync(f).size > 1 << 20);
      const writer = new ArpaWriter(largeInput && args.arpa !== undefined);
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
          onPhase: (p) => progress.phase(p),
          onProgress: (_p, d, t) => progress.update(d, t),
        });
        let written = 0;
        if (args.arpa !== undefined) {
          progress.phase(`writing ${args.arpa}`);
          written += await writer.write(args.arpa, built.lm, built.counts);
        }
        if (args.binary !== undefined) {
          progress.phase(`writing ${args.binary}`);
          written += writeBinaryModel(args.binary, built.lm, true, topkOptionsOf(args));
        }
        const counts = built.counts.slice(1).join('/');
        progress.enabled = !args.quiet; // the summary line is worth printing even for small inputs
        progress.done(`${ids.length - 2 * ids.sentences} words, ${ids.sentences} sentences; n-grams ${counts}; ${(written / 1e6).toFixed(1)} MB`);
      } finally {
        writer.close();
      }
    }),
};
