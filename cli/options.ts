// Options that several commands take, defined once so that a flag means, defaults and reads the
// same everywhere. Each is a yargs options object, added with `.options(...)`.
import type { Options } from 'yargs';
import { InputError } from '../model/errors.js';
import { mixtureWeights } from '../model/mix/weights.js';

/** For the `dbslm store` subcommands that talk to a running store. */
export const connectOptions = {
  connect: { type: 'string', demandOption: true, describe: 'Endpoint of any store member: tcp://HOST:PORT or ipc://PATH, e.g. tcp://127.0.0.1:5555' },
  timeout: { type: 'number', default: 10000, describe: 'Reply timeout in ms for quick requests (a move may take longer)' },
} as const satisfies Record<string, Options>;

/** The model a command reads (`store import`). */
export const modelArpaOption = {
  arpa: { type: 'string', demandOption: true, describe: 'The ARPA model (*.gz accepted)' },
} as const satisfies Record<string, Options>;

const MODEL_FILE = 'The model file: ARPA, gzipped ARPA or a dbslm binary model, told apart by their content';

/**
 * The model file a command reads (ppl, sample, quantize, topk): --model FILE, or --arpa FILE, its
 * older name, which takes the same three kinds. Commands that also read a store (--connect) give
 * --model their own description: there it names the model in the store.
 */
export const modelFileOptions = {
  model: { type: 'string', describe: MODEL_FILE },
  arpa: { type: 'string', describe: 'The same as --model FILE (its older name)' },
} as const satisfies Record<string, Options>;

/** --model FILE and --connect ENDPOINT [--model NAME], for commands that read a file or a store. */
export const modelFileOrStoreOptions = {
  model: { type: 'string', describe: `${MODEL_FILE}. With --connect: the name of the model in the store (default: default)` },
  arpa: { type: 'string', describe: 'The model file, as --model FILE (its older name)' },
  connect: { type: 'string', describe: 'Read the model from the store at this endpoint (any member) instead of a file' },
  timeout: connectOptions.timeout,
} as const satisfies Record<string, Options>;

/** yargs check: a model file (or, where allowed, a store) is named, and a file only once. */
export function checkModelNamed(a: { model?: unknown; arpa?: unknown; connect?: unknown }, store = false, mixture = false): true {
  if (a.model !== undefined && a.arpa !== undefined && a.connect === undefined) throw new Error('Name the model file once: --model FILE (or --arpa FILE, its older name)');
  if (Array.isArray(a.model) && !mixture) throw new Error('Give --model once (only ppl, sample, generate and chat mix several models)');
  if (Array.isArray(a.arpa)) throw new Error('Give --arpa once (to mix models: --model FILE, once per model)');
  if (a.model === undefined && a.arpa === undefined && a.connect === undefined) {
    throw new Error(store ? 'Name the model: --model FILE, or --connect ENDPOINT [--model NAME] for a model in a store' : 'Name the model: --model FILE');
  }
  return true;
}

/** The model file named by --model or --arpa (checked by checkModelNamed). */
export const modelFileOf = (a: { model?: string | string[]; arpa?: string }): string => a.arpa ?? [a.model!].flat()[0]!;

/** Every model file named: --model given more than once is a linear mixture (ppl, sample, generate, chat). */
export const modelFilesOf = (a: { model?: string | string[]; arpa?: string }): string[] => (a.arpa !== undefined ? [a.arpa] : [a.model ?? []].flat());

/** With several --model: the mixture's weights (model/mix/weights.ts reads them). */
export const mixtureWeightsOption = {
  weights: { type: 'string', describe: 'With --model given more than once: one weight per model, e.g. 0.7,0.3 (default: uniform), for the exact linear mixture' },
} as const satisfies Record<string, Options>;

/** The mixture's weights, one per model file named, from --weights (checked, normalized; uniform without it). */
export const mixtureWeightsOf = (a: { model?: string | string[]; arpa?: string; weights?: string }): Float64Array =>
  mixtureWeights(modelFilesOf(a).length, a.weights === undefined ? undefined : [a.weights]);

/** yargs check: --weights only with a mixture, and a mixture only of files. */
export function checkMixture(a: { model?: unknown; weights?: unknown; connect?: unknown }): true {
  const models = [a.model ?? []].flat().length;
  if (models > 1 && a.connect !== undefined) throw new Error('Mix model files, not a store: give --model FILE more than once without --connect');
  if (a.weights !== undefined && models < 2) throw new Error('--weights mixes models: give --model FILE once per model, two or more');
  return true;
}

/** The model `build` writes. */
export const outputArpaOption = {
  arpa: { type: 'string', demandOption: true, describe: 'Where to write the ARPA model (written whole or not at all)' },
} as const satisfies Record<string, Options>;

/**
 * How lines become words. Checked by parseTokenizerName in the handler rather than by yargs
 * `choices`, so a bad name is an input error that lists the valid ones and exits 1.
 */
export const tokenizerOption = {
  tokenizer: {
    type: 'string',
    default: 'whitespace',
    describe:
      'whitespace: split on spaces as KenLM does (pre-tokenized text); regex: words, numbers and punctuation from raw text. ' +
      'Read text against a model with the tokenizer it was built with',
  },
} as const satisfies Record<string, Options>;

export const quietOption = {
  quiet: { type: 'boolean', default: false, alias: 'q', describe: 'No progress on stderr' },
} as const satisfies Record<string, Options>;

export type ConnectArgs = { connect: string; timeout: number };

/** Which model of a store a command reads or writes (`store import`, `export`, `ppl --connect`). */
export const modelNameOption = {
  model: { type: 'string', default: 'default', describe: 'Name of the model in the store: its keys are in the namespaces NAME.meta, NAME.vocab, NAME.word and NAME.p' },
} as const satisfies Record<string, Options>;

/** `--topk K [--topk-bits B]`: store a follower index for topk (see model/binary/topk_file.ts). */
export interface TopKOptions {
  k: number;
  bits: number;
}

export const topkIndexOptions = {
  topk: { type: 'number', describe: 'Binary output: also store a follower index, so `topk --model FILE --k K` answers in microseconds (costs one Top-K build now)' },
  'topk-bits': { type: 'number', default: 8, describe: 'With --topk: the bits of the heads\' codebook (topk --bits must match)' },
} as const satisfies Record<string, Options>;

export function topkOptionsOf(args: { topk?: number; 'topk-bits': number }): TopKOptions | undefined {
  if (args.topk === undefined) return undefined;
  if (!(Number.isInteger(args.topk) && args.topk >= 1)) throw new InputError(`--topk must be a whole number >= 1, got ${args.topk}`);
  return { k: args.topk, bits: args['topk-bits'] };
}
