// `dbslm topk`: the K most probable next words of a context, from the Top-K heads: built in-process
// from a model file, computed for this context alone from the follower index of a binary written
// with --topk (model/binary/topk_file.ts), or read from a model in a store (--connect,
// cli/io/store_topk.ts). All three print the same.
import type { Argv, CommandModule } from 'yargs';
import { formatFloat32 } from '../../model/float32_text.js';
import { NextWordDistribution } from '../../model/distribution.js';
import { InputError } from '../../model/errors.js';
import { buildTopK, rowFor } from '../../model/topk.js';
import { BOS } from '../../model/vocab.js';
import { getTokenizer, parseTokenizerName } from '../../model/tokenizer.js';
import { historyToIds } from '../../model/line_ids.js';
import { loadModel } from '../io/load_model.js';
import { openTopK } from '../../model/binary/topk_file.js';
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
      const model = loadModel(modelFileOf(args), progress);
      const history = historyToIds(model.vocab, tokenize, args.context);
      const ask = history.length ? history : [BOS];
      let context: number[];
      let rows: { word: number; value: number; quantized: number }[] = [];
      const fromIndex = model.binary && openTopK(model.binary, args.k, args.bits);
      if (fromIndex) {
        // A binary written with --topk: this one head, from its follower index.
        const head = fromIndex(ask);
        context = head.context;
        rows = head.words.map((word, i) => ({ word, value: head.values[i], quantized: head.quantized[i] }));
      } else {
        const lm = model.languageModel();
        progress.phase(`building top-${args.k} heads`);
        const topk = buildTopK(lm, args.k, args.bits);
        progress.done(`${topk.rows} contexts x ${args.k}, codebook of ${topk.codebook.centers.length} values`);
        const ctx = new NextWordDistribution(lm).contexts(ask);
        const row = rowFor(topk, lm, ctx.length ? ctx[ctx.length - 1] : 0);
        context = ctx.length ? lm.trie.path(ctx[ctx.length - 1]) : [];
        for (let at = row * args.k; at < (row + 1) * args.k && topk.words[at] >= 0; at++) {
          rows.push({ word: topk.words[at], value: topk.values[at], quantized: topk.codebook.centers[topk.codes[at]] });
        }
      }
      const used = context.map((id) => model.vocab.word(id)).join(' ');
      let out = `context: "${used}"\nrank\tword\tlog10 p\tquantized\n`;
      rows.forEach((r, i) => (out += `${i + 1}\t${model.vocab.word(r.word)}\t${formatFloat32(r.value)}\t${formatFloat32(r.quantized)}\n`));
      process.stdout.write(out);
    }),
};
