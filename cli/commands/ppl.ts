// `dbslm ppl`: perplexity of test text under an ARPA model, printed as KenLM's query prints it.
import type { Argv, CommandModule } from 'yargs';
import { formatFloat32 } from '../../model/arpa_write.js';
import type { LanguageModel } from '../../model/language_model.js';
import { formatPerplexity, perplexity, Scorer, type SentenceScore } from '../../model/score.js';
import { getTokenizer, parseTokenizerName } from '../../model/tokenizer.js';
import { expandInputs, readLines } from '../io/inputs.js';
import { lineToIds } from '../../model/line_ids.js';
import { loadArpa } from '../io/load_model.js';
import { Progress } from '../io/progress.js';
import { connectOptions, modelArpaOption, modelNameOption, quietOption, tokenizerOption } from '../options.js';
import { runCommand } from '../run_command.js';

interface PplArgs {
  arpa?: string;
  connect?: string;
  timeout: number;
  model: string;
  tokenizer: string;
  'per-sentence': boolean;
  tests: string[];
  quiet: boolean;
}

export const pplCommand: CommandModule<object, PplArgs> = {
  command: 'ppl <tests..>',
  describe: 'Score test text: total log10 probability and perplexity including and excluding OOVs',
  builder: (y: Argv) =>
    y
      .positional('tests', { type: 'string', array: true, describe: 'Test text: files, directories, or - for stdin, one sentence per line' })
      .options({ arpa: { ...modelArpaOption.arpa, demandOption: false, describe: 'The ARPA model (*.gz accepted); or --connect' } })
      .options({ connect: { ...connectOptions.connect, demandOption: false, describe: 'Read the model from the store at this endpoint (any member) instead of --arpa' } })
      .options(modelNameOption)
      .options({ timeout: connectOptions.timeout })
      .conflicts('arpa', 'connect')
      .check((a) => {
        if (a.arpa === undefined && a.connect === undefined) throw new Error('Name the model: --arpa FILE, or --connect ENDPOINT for a model in a store');
        return true;
      })
      .options(tokenizerOption)
      .option('per-sentence', { type: 'boolean', default: false, describe: 'Also print "Total: <log10> OOV: <n>" for each line' })
      .options(quietOption)
      .example('$0 ppl --arpa kjv5.arpa test.txt', 'perplexity of test.txt')
      .example('$0 ppl --connect tcp://127.0.0.1:5555 --model kjv5 test.txt', 'the same with the model kjv5 of a store') as unknown as Argv<PplArgs>,
  handler: (args) =>
    runCommand('ppl', async () => {
      const tokenizer = parseTokenizerName(args.tokenizer);
      const tokenize = getTokenizer(tokenizer);
      const files = expandInputs(args.tests);
      const progress = new Progress('dbslm ppl', !args.quiet && process.stderr.isTTY === true);
      let lm: LanguageModel;
      if (args.connect !== undefined) {
        // Imported here: the store client pulls in ZeroMQ, which `ppl --arpa` does without.
        const { loadStoreModel } = await import('../io/store_model.js');
        // Values as the exported ARPA reads them: exactly what `ppl --arpa` prints for that file.
        const loaded = await loadStoreModel(args.connect, args.timeout, args.model, progress, true);
        lm = loaded.lm;
        if (loaded.meta.tokenizer !== tokenizer) process.stderr.write(`warning: model ${args.model} was built with --tokenizer ${loaded.meta.tokenizer}; scoring with ${tokenizer}\n`);
      } else lm = loadArpa(args.arpa!, progress);
      const scorer = new Scorer(lm);
      const scores: SentenceScore[] = [];
      let out = '';
      for (const file of files) {
        for (const line of readLines(file)) {
          const score = scorer.sentence(lineToIds(lm.vocab, tokenize, line));
          scores.push(score);
          if (args['per-sentence']) {
            out += `Total: ${formatFloat32(score.total)} OOV: ${score.oov}\n`;
            if (out.length > 1 << 16) (process.stdout.write(out), (out = ''));
          }
        }
      }
      process.stdout.write(out + formatPerplexity(perplexity(scores)));
    }),
};
