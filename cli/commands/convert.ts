// `dbslm convert`: a model file from one format to the other. In: ARPA, gzipped ARPA or binary
// (told apart by content). Out: ARPA or binary, by --to or the extension (.arpa, .dbslm). A binary
// made from an ARPA converts back to that ARPA byte for byte.
import type { Argv, CommandModule } from 'yargs';
import { entryCounts } from '../../model/language_model.js';
import { quantizeModel } from '../../model/quantize.js';
import { InputError } from '../../model/errors.js';
import { ArpaWriter } from '../io/arpa_parallel.js';
import { loadModel } from '../io/load_model.js';
import { Progress } from '../io/progress.js';
import { OUTPUT_FORMATS, outputFormatOf, writeBinaryModel, writeQuantizedBinaryModel } from '../io/write_model.js';
import { quietOption, topkIndexOptions, topkOptionsOf } from '../options.js';
import { runCommand } from '../run_command.js';

interface ConvertArgs {
  input: string;
  output: string;
  to?: string;
  bits?: number;
  topk?: number;
  'topk-bits': number;
  quiet: boolean;
}

export const convertCommand: CommandModule<object, ConvertArgs> = {
  command: 'convert <input> <output>',
  describe: 'Convert a model file: ARPA, gzipped ARPA or binary in; ARPA or binary out',
  builder: (y: Argv) =>
    y
      .positional('input', { type: 'string', describe: 'The model file: ARPA, gzipped ARPA or dbslm binary, told apart by content' })
      .positional('output', { type: 'string', describe: 'Where to write it (whole or not at all)' })
      .option('to', { type: 'string', choices: OUTPUT_FORMATS as string[], describe: 'Output format; default: from the extension (.arpa: ARPA, .dbslm: binary)' })
      .option('bits', { type: 'number', describe: 'Binary output only: quantize orders >= 2 to this many bits (as `dbslm quantize`) and store the codebooks' })
      .options(topkIndexOptions)
      .options(quietOption)
      .example('$0 convert kjv5.arpa.gz kjv5.dbslm', 'a binary model that loads in milliseconds')
      .example('$0 convert kjv5.dbslm kjv5.arpa', 'back to the ARPA it came from, byte for byte') as unknown as Argv<ConvertArgs>,
  handler: (args) =>
    runCommand('convert', async () => {
      const format = outputFormatOf(args.output, args.to);
      if (args.bits !== undefined && format !== 'binary') throw new InputError('--bits applies to binary output; for a quantized ARPA use `dbslm quantize --out`');
      if (args.topk !== undefined && (format !== 'binary' || args.bits !== undefined)) throw new InputError('--topk applies to binary output that is not quantized');
      const topk = topkOptionsOf(args);
      const progress = new Progress('dbslm convert', !args.quiet && process.stderr.isTTY === true);
      const lm = loadModel(args.input, progress).languageModel();
      progress.phase(`writing ${args.output}`);
      let bytes: number;
      if (format === 'arpa') {
        const writer = new ArpaWriter(false);
        writer.start(lm.trie.size - 1);
        try {
          bytes = await writer.write(args.output, lm, entryCounts(lm));
        } finally {
          writer.close();
        }
      } else if (args.bits !== undefined) bytes = writeQuantizedBinaryModel(args.output, quantizeModel(lm, args.bits));
      else bytes = writeBinaryModel(args.output, lm, false, topk);
      progress.enabled = !args.quiet;
      progress.done(`${args.output}: ${format}, ${(bytes / 1e6).toFixed(1)} MB`);
    }),
};
