#!/usr/bin/env node
// The dbslm command line. Each command lives in its own module; this file only wires them.
import type { CommandModule } from 'yargs';
import { STDIN_ARG } from './io/inputs.js';
import { prefetchPplModel } from './io/model_prefetch.js';

// `ppl --model X`: a binary model is read, or an ARPA file's lexing thread started, while yargs
// (one bundled file, cli/yargs_bundle.ts; package.json pins its string-width to 7.2.0: 8.x's emoji
// regular expression took 30-50 ms to compile) and the command load, hence yargs' dynamic import.
prefetchPplModel(process.argv.slice(2));
const { yargs, hideBin } = await import('./yargs_bundle.js');

// A reader that stopped reading (`dbslm store status | head -1`): stop quietly with status 0, as
// Unix tools do on SIGPIPE (Node ignores SIGPIPE, so the write fails with EPIPE instead).
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

// yargs drops a bare "-" positional, so it is renamed before parsing to mean standard input.
const argv = hideBin(process.argv).map((a) => (a === '-' ? STDIN_ARG : a));

// Each command by name, its module imported only when it runs (or when the whole list is shown):
// the others' modules (estimation, generation, pipelines, metrics, the store's ZeroMQ and SQLite)
// cost a third of a second of loading, which `ppl` from a binary model (0.3 s in all) cannot
// afford, nor a store actor started by the hundred (`store start`). A named command is parsed
// alone; anything else (no command, `--help`, a typo) sees the whole list.
const commands: Record<string, () => Promise<CommandModule>> = {
  build: async () => (await import('./commands/build.js')).buildCommand as CommandModule,
  convert: async () => (await import('./commands/convert.js')).convertCommand as CommandModule,
  ppl: async () => (await import('./commands/ppl.js')).pplCommand as CommandModule,
  sample: async () => (await import('./commands/sample.js')).sampleCommand as CommandModule,
  quantize: async () => (await import('./commands/quantize.js')).quantizeCommand as CommandModule,
  topk: async () => (await import('./commands/topk.js')).topkCommand as CommandModule,
  mix: async () => (await import('./commands/mix.js')).mixCommand as CommandModule,
  export: async () => (await import('./commands/export.js')).exportCommand as CommandModule,
  generate: async () => (await import('./commands/generate.js')).generateCommand as CommandModule,
  chat: async () => (await import('./commands/chat.js')).chatCommand as CommandModule,
  concepts: async () => (await import('./commands/concepts.js')).conceptsCommand as CommandModule,
  store: async () => (await import('./commands/store/store.js')).storeCommand as CommandModule,
  pipeline: async () => (await import('./commands/pipeline.js')).pipelineCommand as CommandModule,
  metrics: async () => (await import('./commands/metrics.js')).metricsCommand as CommandModule,
  bench: async () => (await import('./commands/bench.js')).benchCommand as CommandModule,
};
const invoked = argv.find((a) => !a.startsWith('-'));
const alone = invoked !== undefined && Object.hasOwn(commands, invoked) ? await commands[invoked]() : undefined;

const cli = yargs(argv)
  .scriptName('dbslm')
  .usage('$0 <command> [options]\n\nTrain, score and sample database-native n-gram language models.');
if (alone) {
  cli.command(alone);
  // yargs renders the command's whole help text after every run in case an asynchronous failure
  // wants it (cliui and string-width: 40-80 ms, more for a command with subcommands); runCommand
  // reports failures itself, so without --help it is never shown and is skipped, as Angular's CLI
  // does (angular/angular-cli#34087).
  if (!argv.includes('--help') && !argv.includes('-h')) {
    (cli as unknown as { getInternalMethods(): { getUsageInstance(): { cacheHelpMessage(): void } } }).getInternalMethods().getUsageInstance().cacheHelpMessage = () => {};
  }
} else if (!(argv.length === 1 && argv[0] === '--version')) {
  // The list needs every command's module (0.3-0.5 s of loading); `--version` alone needs none.
  cli.command(await Promise.all(Object.values(commands).map((load) => load())));
}
await cli
  .demandCommand(1, 'Name a command; see the list above.')
  .strict()
  .help()
  .alias('h', 'help')
  .wrap(Math.min(110, process.stdout.columns ?? 100))
  .parseAsync();

// The commands that build or load one model and exit (bin/dbslm's list) have nothing left to do
// once their output is written (synchronously, on Linux, whether to a file, a pipe or a terminal),
// and Node's own teardown after it (ending helper threads, freeing the model's hundreds of MB) took
// ~40 ms after the last line of `ppl` from an ARPA file. So they exit at once, with their status.
if (invoked !== undefined && ['build', 'ppl', 'convert', 'sample', 'topk', 'quantize', 'mix'].includes(invoked)) process.exit();
