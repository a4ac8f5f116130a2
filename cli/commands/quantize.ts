// `dbslm quantize`: b-bit per-order codebooks for log-probs and backoffs, the quantized model
// written as ARPA, and what it costs in perplexity on held-out text.
import type { Argv, CommandModule } from 'yargs';
import { arpaChunks } from '../../model/arpa_write.js';
import { entryCounts, type LanguageModel } from '../../model/language_model.js';
import { quantizeModel } from '../../model/quantize.js';
import { perplexity, Scorer } from '../../model/score.js';
import { getTokenizer, parseTokenizerName } from '../../model/tokenizer.js';
import { writeFileAtomic } from '../io/atomic_file.js';
import { expandInputs, readLines } from '../io/inputs.js';
import { lineToIds, type LineTokenizer } from '../../model/line_ids.js';
import { loadLanguageModel } from '../io/load_model.js';
import { Progress } from '../io/progress.js';
import { checkModelNamed, modelFileOf, modelFileOptions, tokenizerOption } from '../options.js';
import { runCommand } from '../run_command.js';

interface QuantizeArgs {
  model?: string;
  arpa?: string;
  tokenizer: string;
  bits: number;
  out?: string;
  test?: string[];
}

function perplexityOf(lm: LanguageModel, tokenize: LineTokenizer, lines: string[]): number {
  const scorer = new Scorer(lm);
  return perplexity(lines.map((line) => scorer.sentence(lineToIds(lm.vocab, tokenize, line)))).includingOov;
}

export const quantizeCommand: CommandModule<object, QuantizeArgs> = {
  command: 'quantize',
  describe: 'Quantize log-probs and backoffs to b bits per order and report the perplexity cost',
  builder: (y: Argv) =>
    y
      .options(modelFileOptions)
      .check((a) => checkModelNamed(a))
      .options(tokenizerOption)
      .option('bits', { type: 'number', default: 8, describe: 'Bits per value, 1 to 16 (codebook of 2^bits quantile bins per order)' })
      .option('out', { type: 'string', describe: 'Write the quantized model (values replaced by bin centers) as ARPA here' })
      .option('test', { type: 'string', array: true, describe: 'Held-out text: report perplexity before and after' })
      .example('$0 quantize --model kjv5.arpa --bits 8 --test test.txt', 'what 8 bits cost') as unknown as Argv<QuantizeArgs>,
  handler: (args) =>
    runCommand('quantize', () => {
      const tokenize = getTokenizer(parseTokenizerName(args.tokenizer));
      const lm = loadLanguageModel(modelFileOf(args), new Progress('dbslm quantize', process.stderr.isTTY === true));
      const q = quantizeModel(lm, args.bits);
      const values = entryCounts(lm).slice(2).reduce((a, b) => a + b, 0);
      process.stdout.write(`quantized ${values} entries of orders 2..${lm.order} to ${args.bits} bits (unigrams kept exact)\n`);
      if (args.test) {
        const lines: string[] = [];
        for (const f of expandInputs(args.test)) lines.push(...readLines(f));
        const before = perplexityOf(lm, tokenize, lines);
        const after = perplexityOf(q.lm, tokenize, lines);
        process.stdout.write(`perplexity: ${before} -> ${after} (${(((after - before) / before) * 100).toFixed(3)}%)\n`);
      }
      if (args.out) {
        writeFileAtomic(args.out, arpaChunks(q.lm, entryCounts(q.lm)));
        process.stdout.write(`wrote ${args.out}\n`);
      }
    }),
};
