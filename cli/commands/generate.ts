// `dbslm generate`: text drawn from a model, in a file or in a store, with the sampling controls
// of generate/controls.ts. One sample per line, detokenized, markers hidden; --json prints one
// JSON object per sample with its words.
import type { Argv, CommandModule } from 'yargs';
import { InputError } from '../../model/errors.js';
import { parseTokenizerName } from '../../model/tokenizer.js';
import type { Engine, GenerateRequest } from '../../generate/engine.js';
import { FRAME_MODES, type FrameMode } from '../../generate/prompt_frame.js';
import { connectOptions } from '../options.js';
import { runCommand } from '../run_command.js';

interface GenerateArgs {
  connect?: string;
  model?: string;
  arpa?: string;
  timeout: number;
  tokenizer?: string;
  prompt?: string;
  instruction?: string;
  n: number;
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
  frame: string;
  json: boolean;
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

export const generateCommand: CommandModule<object, GenerateArgs> = {
  command: 'generate',
  describe: 'Generate text from a model file or a model in a store, with sampling controls',
  builder: (y: Argv) =>
    y
      .option('connect', { type: 'string', describe: 'Read the model from the store at this endpoint (any member)' })
      .option('model', { type: 'string', describe: 'With --connect: the name of the model in the store (default: default). Without: the model file (ARPA, *.gz accepted)' })
      .option('arpa', { type: 'string', describe: 'The model file (ARPA), as --model FILE' })
      .option('timeout', { ...connectOptions.timeout })
      .option('tokenizer', { type: 'string', describe: 'How the prompt becomes words: whitespace or regex (default: the one the stored model was built with; whitespace for a file)' })
      .option('prompt', { type: 'string', describe: 'Text to continue or, for a model trained on prompt/response pairs, to answer. Without it generation starts at <s>' })
      .option('instruction', { type: 'string', describe: 'An instruction framed before the prompt (|INSTRUCTION|:), for models trained with one' })
      .option('n', { type: 'number', default: 1, describe: 'Independent samples, one per line' })
      .option('max-tokens', { type: 'number', default: 40, describe: 'Stop after this many words' })
      .option('min-tokens', { type: 'number', default: 0, describe: 'Do not stop (</s>, |END|) before this many words' })
      .option('temperature', { type: 'number', default: 1, describe: 'Sharpen (<1) or flatten (>1) the distribution; 0 always takes the most probable word' })
      .option('top-k', { type: 'number', default: 0, describe: 'Draw among the K most probable words only (0: off)' })
      .option('top-p', { type: 'number', default: 1, describe: 'Draw among the most probable words holding this much mass (nucleus; 1: off)' })
      .option('min-p', { type: 'number', default: 0, describe: 'Drop words less probable than this times the most probable (0: off)' })
      .option('seed', { type: 'number', describe: 'Random seed: the same seed gives the same output, from a file or a store' })
      .option('stop', { type: 'string', array: true, default: [], describe: 'Stop when the text contains this string (repeatable); the text ends before it' })
      .option('ban', { type: 'string', array: true, default: [], describe: 'A word never to generate (repeatable)' })
      .option('bias', { type: 'string', array: true, default: [], describe: 'WORD=NUMBER: add NUMBER (natural log) to the word\'s log-probability (repeatable)' })
      .option('presence-penalty', { type: 'number', default: 0, describe: 'Subtract from the log-probability of every word already generated' })
      .option('frequency-penalty', { type: 'number', default: 0, describe: 'Subtract this times the number of times a word was generated' })
      .option('repeat-penalty', { type: 'number', default: 1, describe: 'Divide the probability of a word seen in the context windows by this (window j: its j-th root); 1: off' })
      .option('context-dimensions', { type: 'string', describe: 'The repeat penalty\'s windows, counted back from the last word: ranges "1-2,3-5" or lengths "4,8,4" (= 1-4,5-12,13-16); default 1-64' })
      .option('frame', { type: 'string', default: 'auto', describe: 'auto: frame the prompt as |USER|: ... |RESPONSE|: when the model was trained on pairs; chat: always; text: never' })
      .option('json', { type: 'boolean', default: false, describe: 'One JSON object per sample: text and words' })
      .conflicts('arpa', 'connect')
      .check((a) => {
        if (a.connect === undefined && a.model === undefined && a.arpa === undefined) throw new Error('Name the model: --model FILE, or --connect ENDPOINT [--model NAME] for a model in a store');
        return true;
      })
      .example('$0 generate --model kjv5.arpa --prompt "In the beginning" --n 3 --seed 7', 'three repeatable continuations')
      .example('$0 generate --connect tcp://127.0.0.1:5555 --model kjv5 --top-p 0.9 --temperature 0.8', 'from a store, nucleus sampling') as unknown as Argv<GenerateArgs>,
  handler: (args) =>
    runCommand('generate', async () => {
      if (!(Number.isInteger(args.n) && args.n >= 1)) throw new InputError(`--n must be a whole number >= 1, got ${args.n}`);
      if (!(FRAME_MODES as readonly string[]).includes(args.frame)) throw new InputError(`--frame must be one of ${FRAME_MODES.join(', ')}, got ${args.frame}`);
      const tokenizer = args.tokenizer === undefined ? undefined : parseTokenizerName(args.tokenizer);
      const { Engine } = await import('../../generate/engine.js');
      let engine: Engine;
      if (args.connect !== undefined) {
        const { withStoreErrors } = await import('../io/store_model.js');
        engine = await withStoreErrors(() => Engine.open({ connect: args.connect!, model: args.model, timeoutMs: args.timeout, tokenizer }));
      } else engine = await Engine.open({ file: (args.arpa ?? args.model)!, tokenizer });
      try {
        const request: GenerateRequest = {
          prompt: args.prompt,
          instruction: args.instruction,
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
          frame: args.frame as FrameMode,
        };
        for (const sample of await engine.generateMany(request, args.n)) {
          process.stdout.write(args.json ? `${JSON.stringify({ text: sample.text, words: sample.words.map((w) => w.token) })}\n` : `${sample.text}\n`);
        }
      } finally {
        engine.close();
      }
    }),
};
