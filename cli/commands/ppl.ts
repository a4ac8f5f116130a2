// `dbslm ppl`: perplexity of test text under a model (a file of any kind, or a store's), printed
// as KenLM's query prints it.
import type { Argv, CommandModule } from 'yargs';
import { formatFloat32 } from '../../model/float32_text.js';
import { formatPerplexity, perplexity, Scorer, type SentenceScore } from '../../model/score.js';
import type { Vocab } from '../../model/vocab.js';
import { getTokenizer, parseTokenizerName } from '../../model/tokenizer.js';
import { expandInputs, readInput, readLines } from '../io/inputs.js';
import { lineToIds, whitespaceLineIds } from '../../model/line_ids.js';
import { ByteWordIndex } from '../../model/byte_words.js';
import { binaryModelFile } from '../io/loaded_model.js';
import { readBinaryModel } from '../../model/binary/model_file.js';
import { Progress } from '../io/progress.js';
import { checkMixture, checkModelNamed, mixtureWeightsOf, mixtureWeightsOption, modelFileOf, modelFilesOf, modelFileOrStoreOptions, quietOption, tokenizerOption } from '../options.js';
import type { LineTokenizer } from '../../model/line_ids.js';
import { takePrefetched } from '../io/model_prefetch.js';
import { runCommand } from '../run_command.js';

interface PplArgs {
  arpa?: string;
  connect?: string;
  timeout: number;
  model?: string | string[];
  weights?: string;
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
      .options(modelFileOrStoreOptions)
      .conflicts('arpa', 'connect')
      .check((a) => checkModelNamed(a, true, true) && checkMixture(a))
      .options(mixtureWeightsOption)
      .options(tokenizerOption)
      .option('per-sentence', { type: 'boolean', default: false, describe: 'Also print "Total: <log10> OOV: <n>" for each line' })
      .options(quietOption)
      .example('$0 ppl --model kjv5.dbslm test.txt', 'perplexity of test.txt (the model: binary, ARPA or gzipped ARPA)')
      .example('$0 ppl --connect tcp://127.0.0.1:5555 --model kjv5 test.txt', 'the same with the model kjv5 of a store')
      .example('$0 ppl --model a.arpa --model b.arpa --weights 0.7,0.3 test.txt', 'the exact linear mixture 0.7 p_a + 0.3 p_b (dbslm mix tunes the weights)') as unknown as Argv<PplArgs>,
  handler: (args) =>
    runCommand('ppl', async () => {
      const tokenizer = parseTokenizerName(args.tokenizer);
      const tokenize = getTokenizer(tokenizer);
      const files = expandInputs(args.tests);
      const progress = new Progress('dbslm ppl', !args.quiet && process.stderr.isTTY === true);
      let scorer: Scorer;
      // A binary model's vocabulary is made only if asked for (model_file.ts): whitespace-split
      // text is looked up in its byte index instead.
      let vocabOf: () => Vocab;
      let words: ByteWordIndex | undefined;
      if (args.connect !== undefined) {
        // Imported here: the store client pulls in ZeroMQ, which a model file does without.
        const { loadStoreModel } = await import('../io/store_model.js');
        const name = modelFileOf({ model: args.model ?? 'default' });
        // Values as the exported ARPA reads them: exactly what `ppl --model` prints for that file.
        const loaded = await loadStoreModel(args.connect, args.timeout, name, progress, true);
        scorer = new Scorer(loaded.lm);
        vocabOf = () => loaded.lm.vocab;
        if (loaded.meta.tokenizer !== tokenizer) process.stderr.write(`warning: model ${name} was built with --tokenizer ${loaded.meta.tokenizer}; scoring with ${tokenizer}\n`);
      } else {
        // Only the probing tables: from a binary model they are views onto the file, which main.ts
        // may have started reading already.
        const file = modelFileOf(args);
        // A binary model main.ts started reading is opened here; anything else goes through the
        // loader, imported only then (with the ARPA reader's modules, which a binary model does without).
        const prefetched = await takePrefetched(file);
        const model = prefetched ? binaryModelFile(readBinaryModel(prefetched.bytes, file, prefetched.crc)) : (await import('../io/load_model.js')).loadModel(file, progress, { scoring: true });
        scorer = new Scorer(model.queryIndex());
        vocabOf = () => model.vocab;
        words = model.words;
      }
      const modelFiles = modelFilesOf(args);
      if (args.connect === undefined && modelFiles.length > 1) {
        const scores = await mixtureScores(modelFiles, mixtureWeightsOf(args), tokenize, files, progress);
        const out = args['per-sentence'] ? scores.map((score) => `Total: ${formatFloat32(score.total)} OOV: ${score.oov}\n`).join('') : '';
        process.stdout.write(out + formatPerplexity(perplexity(scores)));
        return;
      }
      const scores: SentenceScore[] = [];
      let out = '';
      const scored = (score: SentenceScore): void => {
        scores.push(score);
        if (args['per-sentence']) {
          out += `Total: ${formatFloat32(score.total)} OOV: ${score.oov}\n`;
          if (out.length > 1 << 16) (process.stdout.write(out), (out = ''));
        }
      };
      // Whitespace-split text is looked up by its bytes (line_ids.ts); other tokenizers need strings.
      if (tokenizer === 'whitespace') words ??= new ByteWordIndex(vocabOf());
      for (const file of files) {
        if (words) {
          const { name, bytes } = readInput(file);
          const { ids, ends } = whitespaceLineIds(bytes, name, words);
          for (let line = 0, from = 0; line < ends.length; from = ends[line++]!) scored(scorer.sentence(ids, from, ends[line]));
        } else for (const line of readLines(file)) scored(scorer.sentence(lineToIds(vocabOf(), tokenize, line)));
      }
      process.stdout.write(out + formatPerplexity(perplexity(scores)));
    }),
};

/**
 * The exact mixture's score of every test sentence (model/mix/): what query would print for it.
 * Its modules load only for a mixture: one model's ppl (0.3 s from a binary) does without them.
 */
async function mixtureScores(modelFiles: string[], weights: Float64Array, tokenize: LineTokenizer, tests: string[], progress: Progress): Promise<SentenceScore[]> {
  const [{ UnionVocab }, { mixtureOfText }] = await Promise.all([import('../../model/mix/union_vocab.js'), import('../io/mixture_text.js')]);
  const { loadLanguageModel } = await import('../io/load_model.js');
  const union = new UnionVocab(modelFiles.map((file) => loadLanguageModel(file, progress)));
  return mixtureOfText(union, tokenize, tests).sentenceScores(weights);
}
