// `dbslm ppl`: perplexity of test text under an ARPA model, printed as KenLM's query prints it.
import type { Argv, CommandModule } from 'yargs';
import { formatFloat32 } from '../../model/arpa_write.js';
import { formatPerplexity, perplexity, Scorer, type SentenceScore } from '../../model/score.js';
import { getTokenizer, parseTokenizerName } from '../../model/tokenizer.js';
import { expandInputs, readLines } from '../io/inputs.js';
import { lineToIds } from '../io/line_ids.js';
import { loadArpa } from '../io/load_model.js';
import { Progress } from '../io/progress.js';
import { modelArpaOption, quietOption, tokenizerOption } from '../options.js';
import { runCommand } from '../run_command.js';

interface PplArgs {
  arpa: string;
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
      .options(modelArpaOption)
      .options(tokenizerOption)
      .option('per-sentence', { type: 'boolean', default: false, describe: 'Also print "Total: <log10> OOV: <n>" for each line' })
      .options(quietOption)
      .example('$0 ppl --arpa kjv5.arpa test.txt', 'perplexity of test.txt') as unknown as Argv<PplArgs>,
  handler: (args) =>
    runCommand('ppl', () => {
      const tokenize = getTokenizer(parseTokenizerName(args.tokenizer));
      const files = expandInputs(args.tests);
      const progress = new Progress('dbslm ppl', !args.quiet && process.stderr.isTTY === true);
      const lm = loadArpa(args.arpa, progress);
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
