// Options that several commands take, defined once so that a flag means, defaults and reads the
// same everywhere. Each is a yargs options object, added with `.options(...)`.
import type { Options } from 'yargs';

/** The model a command reads (ppl, sample, quantize, topk). */
export const modelArpaOption = {
  arpa: { type: 'string', demandOption: true, describe: 'The ARPA model (*.gz accepted)' },
} as const satisfies Record<string, Options>;

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

/** For the `dbslm store` subcommands that talk to a running store. */
export const connectOptions = {
  connect: { type: 'string', demandOption: true, describe: 'Endpoint of any store member: tcp://HOST:PORT or ipc://PATH, e.g. tcp://127.0.0.1:5555' },
  timeout: { type: 'number', default: 10000, describe: 'Reply timeout in ms for quick requests (a move may take longer)' },
} as const satisfies Record<string, Options>;

export type ConnectArgs = { connect: string; timeout: number };

/** Which model of a store a command reads or writes (`store import`, `export`, `ppl --connect`). */
export const modelNameOption = {
  model: { type: 'string', default: 'default', describe: 'Name of the model in the store: its keys are in the namespaces NAME.meta, NAME.vocab, NAME.word and NAME.p' },
} as const satisfies Record<string, Options>;
