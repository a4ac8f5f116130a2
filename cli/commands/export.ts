// `dbslm export`: a model of a running store written out as ARPA, whole or not at all, in a
// canonical order (unigrams by vocabulary id, each higher order by its word-id tuple), so the file
// is the same whatever the number of actors or forks the model was spread over. Streamed: the
// model is never held whole (store/model/arpa_export.ts).
import type { Argv, CommandModule } from 'yargs';
import { Progress } from '../io/progress.js';
import { connectOptions, modelNameOption, outputArpaOption, quietOption, type ConnectArgs } from '../options.js';
import { runCommand } from '../run_command.js';

type ExportArgs = ConnectArgs & { arpa: string; model: string; quiet: boolean };

export const exportCommand: CommandModule<object, ExportArgs> = {
  command: 'export',
  describe: 'Write a model of a running store as an ARPA file (canonical order)',
  builder: (y: Argv) =>
    y
      .options(connectOptions)
      .options(modelNameOption)
      .options(outputArpaOption)
      .options(quietOption)
      .example('$0 export --connect tcp://127.0.0.1:5555 --model kjv5 --arpa kjv5.arpa', 'the model kjv5 as ARPA') as unknown as Argv<ExportArgs>,
  handler: (args) =>
    runCommand('export', async () => {
      const model = args.model;
      // Imported here, as the store modules below: the schemas it pulls in cost every command start-up.
      const { checkModelName } = await import('../../store/model/layout.js');
      checkModelName(model); // before connecting: a bad name is the user's to fix, not the store's
      const progress = new Progress('dbslm export', !args.quiet);
      // Imported here: the store client pulls in ZeroMQ, which other commands do without.
      const { withStore } = await import('../io/store_model.js');
      const { writeStoreArpa } = await import('../io/store_arpa.js');
      const { meta, counts, bytes } = await withStore(args.connect, args.timeout, (client) =>
        writeStoreArpa(client, model, args.arpa, {
          where: args.connect,
          onPhase: (p) => progress.phase(p),
          onProgress: (d, t) => progress.update(d, t),
          warn: (m) => process.stderr.write(`warning: model ${model}: ${m}\n`),
        }),
      );
      progress.done(`model ${model} version ${meta.version}: n-grams ${counts.slice(1).join('/')}; ${(bytes / 1e6).toFixed(1)} MB`);
    }),
};
