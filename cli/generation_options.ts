// The options `generate` and `chat` share: which model (a file, the exact mixture of several files,
// or a store), and the sampling controls of generate/controls.ts, defined once with their parsing
// into a GenerateRequest.
import type { Options } from 'yargs';
import { InputError } from '../model/errors.js';
import { parseTokenizerName } from '../model/tokenizer.js';
import type { Engine, GenerateRequest } from '../generate/engine.js';
import { checkMixture, checkModelNamed, connectOptions, mixtureWeightsOf, mixtureWeightsOption, modelFileOf, modelFilesOf } from './options.js';

export const generationModelOptions = {
  connect: { type: 'string', describe: 'Read the model from the store at this endpoint (any member)' },
  model: {
    type: 'string',
    describe:
      'With --connect: the name of the model in the store (default: default). Without: the model file (ARPA, gzipped ARPA or dbslm binary, told apart by content); ' +
      'give it more than once to draw from the exact linear mixture of the files (--weights)',
  },
  arpa: { type: 'string', describe: 'The model file, as --model FILE (its older name)' },
  timeout: { ...connectOptions.timeout },
  tokenizer: { type: 'string', describe: 'How text becomes words: whitespace or regex (default: the one the stored model was built with; whitespace for a file)' },
  ...mixtureWeightsOption,
} as const satisfies Record<string, Options>;

export const samplingOptions = {
  'max-tokens': { type: 'number', default: 40, describe: 'Stop after this many words' },
  'min-tokens': { type: 'number', default: 0, describe: 'Do not stop (</s>, |END|) before this many words' },
  temperature: { type: 'number', default: 1, describe: 'Sharpen (<1) or flatten (>1) the distribution; 0 always takes the most probable word' },
  'top-k': { type: 'number', default: 0, describe: 'Draw among the K most probable words only (0: off)' },
  'top-p': { type: 'number', default: 1, describe: 'Draw among the most probable words holding this much mass (nucleus; 1: off)' },
  'min-p': { type: 'number', default: 0, describe: 'Drop words less probable than this times the most probable (0: off)' },
  seed: { type: 'number', describe: 'Random seed: the same seed gives the same output, from a file or a store' },
  stop: { type: 'string', array: true, default: [] as string[], describe: 'Stop when the text contains this string (repeatable); the text ends before it' },
  ban: { type: 'string', array: true, default: [] as string[], describe: 'A word never to generate (repeatable)' },
  bias: { type: 'string', array: true, default: [] as string[], describe: "WORD=NUMBER: add NUMBER (natural log) to the word's log-probability (repeatable)" },
  'presence-penalty': { type: 'number', default: 0, describe: 'Subtract from the log-probability of every word already generated' },
  'frequency-penalty': { type: 'number', default: 0, describe: 'Subtract this times the number of times a word was generated' },
  'repeat-penalty': { type: 'number', default: 1, describe: 'Divide the probability of a word seen in the context windows by this (window j: its j-th root); 1: off' },
  concepts: { type: 'boolean', default: false, describe: 'Level 3: draft concept spans and verify them speculatively: the same distribution, fewer store round trips (a store model needs `dbslm concepts mine` first)' },
  'context-dimensions': { type: 'string', describe: 'The repeat penalty\'s windows, counted back from the last word: ranges "1-2,3-5" or lengths "4,8,4" (= 1-4,5-12,13-16); default 1-64' },
} as const satisfies Record<string, Options>;

export interface GenerationModelArgs {
  connect?: string;
  /** A model file, several (a mixture), or with --connect the model's name in the store. */
  model?: string | string[];
  weights?: string;
  arpa?: string;
  timeout: number;
  tokenizer?: string;
}

export interface SamplingArgs {
  'max-tokens': number;
  'min-tokens': number;
  temperature: number;
  'top-k': number;
  'top-p': number;
  'min-p': number;
  seed?: number;
  stop: string[];
  ban: string[];
  bias: string[];
  'presence-penalty': number;
  'frequency-penalty': number;
  'repeat-penalty': number;
  'context-dimensions'?: string;
  concepts: boolean;
}

/**
 * yargs check: a model named (a file, a store's, or several files to mix: ppl's checks), and no
 * --concepts with a mixture: concept spans are mined from one model.
 */
export function requireModel(a: { connect?: unknown; model?: unknown; arpa?: unknown; weights?: unknown; concepts?: unknown }): true {
  checkModelNamed(a, true, true);
  checkMixture(a);
  if (Array.isArray(a.model) && a.concepts === true) throw new Error('--concepts drafts from one model\'s concept spans; a mixture of models has none: leave it out (the text is the same without it)');
  return true;
}

/** What the arguments name, for a conversation's record: the model file, the mixture, or the store's model. */
export function modelLabel(args: GenerationModelArgs): string {
  if (args.connect !== undefined) return `${modelFileOf({ model: args.model ?? 'default' })} at ${args.connect}`;
  const files = modelFilesOf(args);
  return files.length > 1 ? `${files.join(' + ')} (weights ${args.weights ?? 'uniform'})` : files[0]!;
}

function parseBias(entries: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const entry of entries) {
    const at = entry.lastIndexOf('=');
    const value = Number(entry.slice(at + 1));
    if (at <= 0 || entry.slice(at + 1).trim() === '' || Number.isNaN(value)) throw new InputError(`--bias ${JSON.stringify(entry)}: expected WORD=NUMBER, such as LORD=-2 (natural-log units added to the word's log-probability)`);
    out[entry.slice(0, at)] = value;
  }
  return out;
}

export function samplingRequest(args: SamplingArgs): GenerateRequest {
  return {
    maxTokens: args['max-tokens'],
    minTokens: args['min-tokens'],
    temperature: args.temperature,
    topK: args['top-k'],
    topP: args['top-p'],
    minP: args['min-p'],
    seed: args.seed,
    stop: args.stop,
    bannedWords: args.ban,
    logitBias: parseBias(args.bias),
    presencePenalty: args['presence-penalty'],
    frequencyPenalty: args['frequency-penalty'],
    repeatPenalty: args['repeat-penalty'],
    contextDimensions: args['context-dimensions'],
    concepts: args.concepts,
  };
}

/** The engine of the model the arguments name; store answers the user must fix become input errors. */
export async function openEngine(args: GenerationModelArgs): Promise<Engine> {
  const tokenizer = args.tokenizer === undefined ? undefined : parseTokenizerName(args.tokenizer);
  const { Engine } = await import('../generate/engine.js');
  if (args.connect === undefined) {
    const files = modelFilesOf(args);
    return files.length > 1 ? Engine.open({ files, weights: mixtureWeightsOf(args), tokenizer }) : Engine.open({ file: files[0]!, tokenizer });
  }
  const { withStoreErrors } = await import('./io/store_model.js');
  const model = args.model === undefined ? undefined : modelFileOf({ model: args.model });
  return withStoreErrors(() => Engine.open({ connect: args.connect!, model, timeoutMs: args.timeout, tokenizer }));
}
