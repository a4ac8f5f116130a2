// `dbslm store import`: an ARPA model (KenLM's, dbslm's, any; gzipped too) into a running store in
// the model layout (store/model/layout.ts), where `ppl --connect`, `export` and the generator
// read it.
import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { checkModelName } from '../../../store/model/layout.js';
import { readModelMeta } from '../../../store/model/stored_meta.js';
import { checkTopKOptions } from '../../../store/model/topk/materialise_topk.js';
import { ModelExistsError, writeModel } from '../../../store/model/write_model.js';
import { parseTokenizerName } from '../../../model/tokenizer.js';
import { STDIN_ARG } from '../../io/inputs.js';
import { loadLanguageModel } from '../../io/load_model.js';
import { Progress } from '../../io/progress.js';
import { withStore } from '../../io/store_model.js';
import { connectOptions, modelArpaOption, modelNameOption, quietOption, tokenizerOption, type ConnectArgs } from '../../options.js';
import { runCommand } from '../../run_command.js';

type ImportArgs = ConnectArgs & { arpa: string; model: string; replace: boolean; tokenizer: string; quiet: boolean; topk: boolean; topkK: number; topkBits: number };

export const importCommand: CommandModule<object, ImportArgs> = {
  command: 'import',
  describe: 'Import an ARPA model into the store (NAME.meta/vocab/word/p/topk; see store/README.md "The model in the store")',
  builder: (y) =>
    y
      .options(modelArpaOption)
      .options(modelNameOption)
      .option('replace', { type: 'boolean', default: false, describe: 'Delete a model of the same name first (without it, such a model is an error)' })
      .options({ tokenizer: { ...tokenizerOption.tokenizer, describe: 'The tokenizer the model was built with, kept with it for its readers' } })
      .option('topk', { type: 'boolean', default: true, describe: 'Build the Top-K heads (--no-topk: only the n-grams and the vocabulary; generation and scoring do not need heads, topk --connect does)' })
      .option('topk-k', { type: 'number', default: 32, describe: 'Followers kept in the Top-K head of each context (NAME.topk)' })
      .option('topk-bits', { type: 'number', default: 8, describe: 'Bits of the Top-K heads\' quantized values' })
      .options(connectOptions)
      .options(quietOption)
      .example('$0 store import --arpa kjv5.arpa.gz --model kjv5 --connect tcp://127.0.0.1:5555', 'the model kjv5 from an ARPA file') as unknown as Argv<ImportArgs>,
  handler: (args) =>
    runCommand('store import', async () => {
      const model = checkModelName(args.model);
      const tokenizer = parseTokenizerName(args.tokenizer);
      const topk = args.topk ? checkTopKOptions({ k: args.topkK, bits: args.topkBits }) : undefined;
      const progress = new Progress('dbslm store import', !args.quiet);
      const meta = await withStore(args.connect, args.timeout, async (client) => {
        // Before the ARPA is read (seconds for a large model): a name already taken fails now.
        const old = await readModelMeta(client, model);
        if (old && !args.replace) throw new ModelExistsError(model, args.connect, old);
        const lm = loadLanguageModel(args.arpa, progress);
        return writeModel(client, lm, {
          model,
          replace: args.replace,
          tokenizer,
          source: args.arpa === '-' || args.arpa === STDIN_ARG ? 'arpa:-' : `arpa:${path.resolve(args.arpa)}`,
          where: args.connect,
          onPhase: (p) => progress.phase(p),
          onProgress: (d, t) => progress.update(d, t),
          topk,
        });
      });
      progress.done(`model ${model} version ${meta.version}: order ${meta.order}, n-grams ${meta.counts.join('/')}, ${meta.vocabSize} words`);
      process.stdout.write(`imported model=${model} version=${meta.version} order=${meta.order} ngrams=${meta.counts.join('/')} words=${meta.vocabSize}\n`);
    }),
};
