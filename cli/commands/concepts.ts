// `dbslm concepts mine`: Level 3's concept dictionary (generate/concept_mining.ts): spans the
// model is likely to continue a context with, the drafts `generate --concepts` verifies
// speculatively. With --connect it reads the model from the store and writes the dictionary
// beside it (store/model/concepts.ts); with --arpa it prints what it found.
import type { Argv, CommandModule } from 'yargs';
import { DEFAULT_MINING, mineConcepts } from '../../generate/concept_mining.js';
import { InputError } from '../../model/errors.js';
import type { LanguageModel } from '../../model/language_model.js';
import { loadLanguageModel } from '../io/load_model.js';
import { Progress } from '../io/progress.js';
import { connectOptions, modelNameOption, quietOption } from '../options.js';
import { runCommand } from '../run_command.js';

interface MineArgs {
  connect?: string;
  arpa?: string;
  model: string;
  timeout: number;
  'min-p': number;
  'max-span': number;
  show: number;
  quiet: boolean;
}

function describe(lm: LanguageModel, dictionary: Map<string, Int32Array>, show: number): string {
  const lines = [`${dictionary.size} spans, ${[...dictionary.values()].reduce((n, s) => n + s.length, 0)} words`];
  for (const [context, span] of [...dictionary].slice(0, show)) {
    lines.push(`  ${context.split(' ').map((id) => lm.vocab.word(Number(id))).join(' ')} => ${Array.from(span, (id) => lm.vocab.word(id)).join(' ')}`);
  }
  return lines.join('\n') + '\n';
}

const mineCommand: CommandModule<object, MineArgs> = {
  command: 'mine',
  describe: 'Mine the concept dictionary of a model: write it into the store (--connect) or print it (--arpa)',
  builder: (y: Argv) =>
    y
      .option('connect', { ...connectOptions.connect, demandOption: false, describe: 'The store holding the model; the dictionary is written beside it' })
      .option('arpa', { type: 'string', describe: 'An ARPA model: print the dictionary instead' })
      .options(modelNameOption)
      .option('timeout', connectOptions.timeout)
      .option('min-p', { type: 'number', default: DEFAULT_MINING.minProbability, describe: 'A span grows while its next word has at least this probability' })
      .option('max-span', { type: 'number', default: DEFAULT_MINING.maxSpan, describe: 'Words per span, at most' })
      .option('show', { type: 'number', default: 10, describe: 'Spans to print' })
      .options(quietOption)
      .conflicts('arpa', 'connect')
      .check((a) => {
        if (a.arpa === undefined && a.connect === undefined) throw new Error('Name the model: --connect ENDPOINT [--model NAME], or --arpa FILE');
        return true;
      }) as unknown as Argv<MineArgs>,
  handler: (args) =>
    runCommand('concepts mine', async () => {
      if (!(args['min-p'] > 0 && args['min-p'] <= 1)) throw new InputError(`--min-p must be in (0, 1], got ${args['min-p']}`);
      if (!(Number.isInteger(args['max-span']) && args['max-span'] >= 2)) throw new InputError(`--max-span must be a whole number >= 2, got ${args['max-span']}`);
      const mining = { minProbability: args['min-p'], maxSpan: args['max-span'] };
      const progress = new Progress('dbslm concepts mine', !args.quiet && process.stderr.isTTY === true);
      if (args.arpa !== undefined) {
        const lm = loadLanguageModel(args.arpa, progress);
        process.stdout.write(describe(lm, mineConcepts(lm, mining), args.show));
        return;
      }
      const { loadStoreModel, withStore } = await import('../io/store_model.js');
      const { lm, meta } = await loadStoreModel(args.connect!, args.timeout, args.model, progress);
      const dictionary = mineConcepts(lm, mining);
      const { writeConcepts } = await import('../../store/model/concepts.js');
      await withStore(args.connect!, args.timeout, (client) => writeConcepts(client, args.model, dictionary, { modelVersion: meta.version, spans: dictionary.size, ...mining }));
      process.stdout.write(describe(lm, dictionary, args.show));
    }),
};

export const conceptsCommand: CommandModule = {
  command: 'concepts <command>',
  describe: "Level 3: a model's concept dictionary (spans drafted by generate --concepts)",
  builder: (y: Argv) => y.command(mineCommand).demandCommand(1, 'Name a concepts command: mine'),
  handler: () => {},
};
