// `dbslm build`: text in, ARPA and/or binary model out, in-process (the streaming pipeline builds the same model).
import fs from 'node:fs';
import os from 'node:os';
import type { Argv, CommandModule } from 'yargs';
import { buildModel, buildModelBounded, buildModelFromCounts, checkOrder, MODEL_BYTES_PER_NGRAM, type BuildOptions, type BuiltModel } from '../../model/build.js';
import { byteSlices, IdStream, readRecords } from '../../model/corpus_read.js';
import { InputError } from '../../model/errors.js';
import { pruneThresholds } from '../../model/prune.js';
import { parseTokenizerName } from '../../model/tokenizer.js';
import { Vocab } from '../../model/vocab.js';
import { arpaChunks } from '../../model/arpa_write.js';
import { ArpaWriter } from '../io/arpa_parallel.js';
import { writeFileAtomic } from '../io/atomic_file.js';
import type { CorpusTotals } from '../io/corpus_pieces.js';
import { expandInputs, readInput } from '../io/inputs.js';
import { Progress } from '../io/progress.js';
import { outputArpaOption, quietOption, tokenizerOption, topkIndexOptions, topkOptionsOf } from '../options.js';
import { runCommand } from '../run_command.js';

/** Bytes of text read per piece sent to the counting thread: small, so that counting starts soon. */
const COUNT_PIECE_BYTES = 1 << 18;

interface BuildArgs {
  order: number;
  tokenizer: string;
  'discount-fallback': boolean;
  arpa?: string;
  prune?: string[];
  memory?: string;
  temp?: string;
  threads?: number;
  binary?: string;
  topk?: number;
  'topk-bits': number;
  inputs: string[];
  quiet: boolean;
}

export const buildCommand: CommandModule<object, BuildArgs> = {
  command: 'build [inputs..]',
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
      .option('prune', {
        type: 'string',
        array: true,
        describe:
          'Count pruning as lmplz --prune: one threshold per order (0 for unigrams, non-decreasing, the last applies to higher orders); ' +
          'n-grams whose raw count is at or below their order\'s threshold are dropped and their mass goes to the backoffs',
      })
      .option('memory', {
        type: 'string',
        describe:
          'Memory for counting, as lmplz -S (300M, 1G, 50%): past it, counts are written to --temp as sorted runs and merged; ' +
          'the model is the same, byte for byte. Without it, counting holds every n-gram in memory',
      })
      .option('threads', {
        type: 'number',
        describe:
          'Threads: 1 does everything on one; by default (2 where the machine has two cores) the ARPA of a large corpus is formatted on two; ' +
          'an explicit --threads 2 (or more, which use no more today) also counts on a second thread while reading (on our 2-core VMs that was slower: README, Benchmarks). ' +
          'The model is the same, byte for byte, whatever the number; with --memory, counting and formatting are on one thread',
      })
      .option('temp', { type: 'string', describe: 'Directory for the sorted runs of --memory (default: the system temporary directory); removed on exit' })
      .options(quietOption)
      .example('$0 build --order 5 --memory 300M --temp /var/tmp --arpa big5.arpa big.txt', 'count a large corpus in 300 MB, spilling to /var/tmp')
      .example('$0 build --order 5 --prune 0 1 1 1 1 --arpa kjv5.pruned.arpa config/corpus/kjv.sample.txt', 'drop singleton bigrams and longer')
      .example('$0 build --order 5 --arpa kjv5.arpa config/corpus/kjv.sample.txt', 'a 5-gram model of the bundled corpus')
      .example('$0 build --order 5 --binary kjv5.dbslm config/corpus/kjv.sample.txt', 'the same as a binary model') as unknown as Argv<BuildArgs>,
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
      // The modules of --memory, of --binary and of the counting thread are imported only when
      // asked for: a build loads ~30 modules instead of ~46 (each read, compiled and linked).
      const budget = args.memory === undefined ? undefined : (await import('../io/temp_dir.js')).parseMemorySize(args.memory, '--memory');
      if (args.temp !== undefined && budget === undefined) {
        throw new InputError('--temp is only used with --memory', undefined, undefined, 'add --memory SIZE (e.g. 300M) to count within a budget');
      }
      const tokenizer = parseTokenizerName(args.tokenizer);
      const files = expandInputs(inputs);
      const largeInput = files.some((f) => f === '-' || fs.statSync(f).size > 1 << 20);
      const threads = threadCount(args.threads);
      // Within a memory budget the ARPA is formatted on this thread and streamed to the file: the
      // two-thread writer holds the whole text and a copy of the tables (2.3x the model's arrays).
      // Its minimum model size applies only to the default (an explicit --threads is obeyed).
      // The ARPA on two threads: asked for (--threads), its thread starts now; by default, once
      // counting has shown the model is large enough to gain from it (arpa_parallel.ts).
      const twoThreadArpa = threads > 1 && args.arpa !== undefined && budget === undefined;
      const writer = new ArpaWriter(twoThreadArpa && args.threads !== undefined, args.threads === undefined ? undefined : 0);
      // Started now, as the writer's thread is, so that its start-up overlaps reading the corpus;
      // only when asked for (a counting thread measured slower on 2 cores: README, Benchmarks).
      const counter = args.threads !== undefined && threads > 1 && budget === undefined ? new (await import('../io/count_parallel.js')).CountingThread() : undefined;
      try {
        const vocab = new Vocab();
        const progress = new Progress('dbslm build', !args.quiet);
        const options: BuildOptions = {
          order: args.order,
          discountFallback: args['discount-fallback'],
          prune,
          onPhase: (p) => progress.phase(p),
          onCounted: (ngrams) => {
            if (twoThreadArpa) writer.start(ngrams);
          },
          onProgress: (_p, d, t) => progress.update(d, t),
        };
        let built: BuiltModel;
        let words: number;
        let sentences: number;
        if (budget === undefined) {
          const expectedIds = files.reduce((n, f) => n + (f === '-' ? 0 : fs.statSync(f).size), 0) / 4;
          // Sized for the text (about 5 bytes a word in English), not grown from 64K by copies.
          const ids = new IdStream(counter ? undefined : expectedIds * 1.5);
          progress.phase('reading');
          let bytes = 0;
          let [allIds, allSentences] = [0, 0];
          counter?.start(args.order, expectedIds);
          for (const file of files) {
            const input = readInput(file);
            bytes += input.bytes.length;
            if (!counter) readRecords(input.bytes, input.name, tokenizer, vocab, ids);
            else {
              // Counting on the other thread starts with the first piece and keeps pace with reading.
              for (const slice of byteSlices(input.bytes, COUNT_PIECE_BYTES)) {
                ids.clear();
                readRecords(slice.bytes, input.name, tokenizer, vocab, ids, slice.firstLine);
                counter.add(ids.view);
                [allIds, allSentences] = [allIds + ids.length, allSentences + ids.sentences];
              }
            }
          }
          if (!counter) [allIds, allSentences] = [ids.length, ids.sentences];
          progress.enabled = !args.quiet && bytes > 1 << 20;
          if (vocab.size <= 3) {
            throw new InputError(`the corpus has no words (read ${files.join(', ')})`, undefined, undefined, 'pass a non-empty training text, one sentence per line');
          }
          if (counter) {
            progress.phase('counting'); // what is left of it once reading is done
            built = buildModelFromCounts(await counter.finish(args.order), vocab, options);
          } else built = buildModel(ids.view, vocab, options);
          [words, sentences] = [allIds - 2 * allSentences, allSentences];
        } else {
          // Within a budget the corpus is read a piece at a time while counting, never held whole.
          const totals: CorpusTotals = { ids: 0, sentences: 0, bytes: 0 };
          progress.enabled = !args.quiet && largeInput;
          const [{ corpusPieces }, { withTempDir }] = await Promise.all([import('../io/corpus_pieces.js'), import('../io/temp_dir.js')]);
          const pieces = corpusPieces(files, tokenizer, vocab, totals, (d, t) => progress.update(d, t));
          const phases = { ...options, onPhase: (p: string) => progress.phase(p === 'counting' ? 'reading and counting' : p) };
          built = await withTempDir(args.temp, 'dbslm-build-', (tempDir) => buildModelBounded(pieces, vocab, phases, { budgetBytes: budget, tempDir }));
          const modelBytes = (built.lm.trie.size - 1) * MODEL_BYTES_PER_NGRAM;
          if (modelBytes > budget) {
            process.stderr.write(
              `warning: the model's ${built.lm.trie.size - 1} n-grams took about ${Math.round(modelBytes / 1e6)} MB to estimate, more than --memory ${args.memory}: ` +
                'counting kept to the budget, estimation cannot (it holds the model); prune (--prune) or lower --order to fit\n',
            );
          }
          [words, sentences] = [totals.ids - 2 * totals.sentences, totals.sentences];
        }
        let written = 0;
        if (args.arpa !== undefined) {
          progress.phase(`writing ${args.arpa}`);
          written += budget === undefined ? await writer.write(args.arpa, built.lm, built.counts, built.paths) : writeFileAtomic(args.arpa, arpaChunks(built.lm, built.counts));
        }
        if (args.binary !== undefined) {
          progress.phase(`writing ${args.binary}`);
          // Imported here: the binary writer's modules are loaded only for --binary.
          const { writeBinaryModel } = await import('../io/write_model.js');
          written += writeBinaryModel(args.binary, built.lm, true, topkOptionsOf(args));
        }
        const counts = built.counts.slice(1).join('/');
        progress.enabled = !args.quiet; // the summary line is worth printing even for small inputs
        const spilled = built.runs > 0 ? `; counting spilled ${built.runs} sorted runs` : '';
        progress.done(`${words} words, ${sentences} sentences; n-grams ${counts}; ${(written / 1e6).toFixed(1)} MB${spilled}`);
      } finally {
        writer.close();
        counter?.close();
      }
    }),
};

/**
 * --threads, checked; by default 1. Two overlap counting with reading and format two halves of the
 * ARPA, but on our 2-core VMs the second thread's start-up, the tables copied to it and what each
 * thread loses to the other cost more than the overlap saves: order 5 of kjv.train.txt 2.49 s
 * against 2.11 s, order 3 1.54 s against 1.17 s (bench:build, same run, medians of 5).
 */
function threadCount(threads: number | undefined): number {
  if (threads === undefined) return Math.min(2, os.availableParallelism());
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw new InputError(`--threads must be a whole number from 1 to 64, got ${threads}`, undefined, undefined, 'use e.g. --threads 2');
  }
  return threads;
}
