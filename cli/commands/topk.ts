// `dbslm topk`: the K most probable next words of a context, from the Top-K heads: built in-process
// from an ARPA (--arpa), or read from a model in a store (--connect, cli/io/store_topk.ts).
import type { Argv, CommandModule } from 'yargs';
import { formatFloat32 } from '../../model/arpa_write.js';
import { NextWordDistribution } from '../../model/distribution.js';
import { InputError } from '../../model/errors.js';
import { buildTopK, rowFor } from '../../model/topk.js';
import { BOS } from '../../model/vocab.js';
import { getTokenizer, parseTokenizerName } from '../../model/tokenizer.js';
import { historyToIds } from '../../model/line_ids.js';
import { loadLanguageModel } from '../io/load_model.js';
import { Progress } from '../io/progress.js';
import { checkModelNamed, modelFileOf, modelFileOrStoreOptions, tokenizerOption } from '../options.js';
import { runCommand } from '../run_command.js';

interface TopkArgs {
  arpa?: string;
  connect?: string;
  model?: string;
  timeout: number;
  tokenizer: string;
  k: number;
  bits: number;
  context: string;
}

export const topkCommand: CommandModule<object, TopkArgs> = {
  command: 'topk',
  describe: 'Build Top-K heads (K most probable followers of every context) and show one context',
  builder: (y: Argv) =>
    y
      .options(modelFileOrStoreOptions)
      .conflicts('arpa', 'connect')
      .check((a) => checkModelNamed(a, true))
      .options(tokenizerOption)
      .option('k', { type: 'number', default: 32, describe: 'Followers kept per context (with --connect: shown, at most the stored K)' })
      .option('bits', { type: 'number', default: 8, describe: 'Bits of the quantized values (a model file; a store keeps its own)' })
      .option('context', { type: 'string', default: '<s>', describe: 'The history to show, split by --tokenizer; <s> is the sentence start' })
      .example('$0 topk --model kjv3.arpa --context "the LORD"', 'what follows "the LORD"')
      .example('$0 topk --connect tcp://127.0.0.1:5555 --model kjv3 --context "the LORD"', 'the same from the heads of the model kjv3 in a store') as unknown as Argv<TopkArgs>,
  handler: (args) =>
    runCommand('topk', async () => {
      if (!(Number.isInteger(args.k) && args.k >= 1)) throw new InputError(`--k must be a whole number >= 1, got ${args.k}`);
      const tokenize = getTokenizer(parseTokenizerName(args.tokenizer));
      if (args.connect !== undefined) {
        // Imported here: the store client pulls in ZeroMQ, which a model file does without.
        const { storeHeadTable } = await import('../io/store_topk.js');
        process.stdout.write(await storeHeadTable(args.connect, args.timeout, args.model ?? 'default', tokenize, args.context, args.k));
        return;
      }
      const progress = new Progress('dbslm topk', true);
      const lm = loadLanguageModel(modelFileOf(args), progress);
      progress.phase(`building top-${args.k} heads`);
      const topk = buildTopK(lm, args.k, args.bits);
      progress.done(`${topk.rows} contexts x ${args.k}, codebook of ${topk.codebook.centers.length} values`);
      const history = historyToIds(lm.vocab, tokenize, args.context);
      const ctx = new NextWordDistribution(lm).contexts(history.length ? history : [BOS]);
      const row = rowFor(topk, lm, ctx.length ? ctx[ctx.length - 1] : 0);
      const used = ctx.length ? lm.trie.path(ctx[ctx.length - 1]).map((id) => lm.vocab.word(id)).join(' ') : '';
      process.stdout.write(`context: "${used}"\nrank\tword\tlog10 p\tquantized\n`);
      for (let i = 0; i < args.k; i++) {
        const w = topk.words[row * args.k + i];
        if (w < 0) break;
        const at = row * args.k + i;
        process.stdout.write(`${i + 1}\t${lm.vocab.word(w)}\t${formatFloat32(topk.values[at])}\t${formatFloat32(topk.codebook.centers[topk.codes[at]])}\n`);
      }
    }),
};
