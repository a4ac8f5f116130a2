// `dbslm bench pipeline [FILE.yaml]`: the pipeline benchmark (bench/pipeline.ts) from the command
// line: the run for count workers 1/2/4 x store actors 1/3 beside lmplz in the same run, as
// `npm run bench:pipeline` prints it. The bench is a script of its own (it spawns fresh `pipeline
// run` processes, as a user runs them); this command runs it with the user's terminal.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Argv, CommandModule } from 'yargs';
import { runCommand } from '../run_command.js';

const PIPELINE_BENCH = fileURLToPath(new URL('../../bench/pipeline.js', import.meta.url));

interface BenchPipelineArgs {
  file: string | undefined;
  quick: boolean;
}

const pipeline: CommandModule<object, BenchPipelineArgs> = {
  command: 'pipeline [file]',
  describe: 'Time a pipeline end to end (default config/pipelines/kjv5.yaml) for 1/2/4 count workers x 1/3 store actors, beside lmplz in the same run',
  builder: (y) =>
    y
      .positional('file', { type: 'string', describe: 'The pipeline YAML (default: config/pipelines/kjv5.yaml)' })
      .option('quick', { type: 'boolean', default: false, describe: 'Only 2 count workers x 3 store actors' })
      .example('$0 bench pipeline config/pipelines/kjv5.yaml --quick', 'one shape, with the lmplz ratio') as unknown as Argv<BenchPipelineArgs>,
  handler: (args) =>
    runCommand('bench pipeline', async () => {
      const r = spawnSync(process.execPath, [PIPELINE_BENCH, ...(args.file ? [args.file] : [])], { stdio: 'inherit', env: { ...process.env, ...(args.quick ? { BENCH_QUICK: '1' } : {}) } });
      if (r.status !== 0) process.exitCode = r.status ?? 1;
    }),
};

export const benchCommand: CommandModule = {
  command: 'bench <command>',
  describe: 'Benchmarks that print figures and ratios beside KenLM (see also npm run bench:build, bench:query, bench:store)',
  builder: (y) => y.command(pipeline as unknown as CommandModule).demandCommand(1, 'Name a benchmark: pipeline'),
  handler: () => undefined,
};
