// `dbslm pipeline ...`: streaming training pipelines defined in YAML (README "Pipelines").
// `validate` checks a definition (and, unless --no-environment, that it can run here), `graph`
// draws its stages, `run` runs it (pipeline/runtime/), and `tap` prints messages leaving a stage
// of a running pipeline; `worker` will join them.
//
// The definition modules (zod, yaml) load in the handlers, so other commands do not pay for them.
import type { Argv, CommandModule } from 'yargs';
import { InputError } from '../../model/errors.js';
import type { PipelineDefinition } from '../../pipeline/definition/definition.js';
import type { Problem } from '../../pipeline/definition/problems.js';
import { DEFAULT_PING_TIMEOUT_MS } from '../../pipeline/definition/store_ping.js';
import { runCommand } from '../run_command.js';

interface DefinitionArgs {
  file: string;
  set: string[];
}

interface ValidateArgs extends DefinitionArgs {
  environment: boolean;
  'ping-timeout': number;
}

interface GraphArgs extends DefinitionArgs {
  dot: boolean;
}

interface RunArgs extends DefinitionArgs {
  quiet: boolean;
  json: boolean;
  'connect-timeout': number;
  'stage-modules': string | undefined;
  listen: string | undefined;
  'worker-wait': number;
}

interface TapArgs {
  file?: string;
  set?: string[];
  connect?: string[];
  stage: string;
  limit: number;
  timeout: number;
}

function definitionArgs<T>(y: Argv<T>): Argv<T & DefinitionArgs> {
  return y
    .positional('file', { type: 'string', demandOption: true, describe: 'The pipeline YAML file' })
    .option('set', {
      type: 'string',
      // Not `array: true`: that would swallow a FILE written after it. Repeated --set still collect.
      coerce: (v: string | string[] | undefined) => (v === undefined ? [] : ([] as string[]).concat(v)),
      describe: 'Override a field before validation, as PATH=VALUE with VALUE read as YAML (repeatable): --set order=4 --set inputs[0].path=x.txt',
    }) as unknown as Argv<T & DefinitionArgs>;
}

/** Print every problem, one per line, and fail with exit code 1: nothing starts. */
async function failWith(problems: readonly Problem[], file: string): Promise<never> {
  const { DefinitionError, formatProblem, sortProblems } = await import('../../pipeline/definition/problems.js');
  for (const p of sortProblems(problems)) process.stderr.write(`${formatProblem(p)}\n`);
  throw new DefinitionError(problems, file);
}

function summary(d: PipelineDefinition, shownPath: (p: string) => string): string {
  const stages = d.stages.map((s) => (s.workers === 1 ? s.name : `${s.name} x${s.workers}`)).join(', ');
  const store = d.store.mode === 'spawn' ? `${d.store.actors.length} local store actor${d.store.actors.length === 1 ? '' : 's'}` : `store at ${d.store.endpoints.join(', ')}`;
  const inputs = `${d.inputs.length} input${d.inputs.length === 1 ? '' : 's'}`;
  const arpa = d.export.arpa === null ? '' : `; ARPA to ${shownPath(d.export.arpa)}`;
  return `${d.name}: ${inputs}, order ${d.order}, ${d.tokenizer} tokenizer; stages ${stages}; ${store}${arpa}`;
}

const validate: CommandModule<object, ValidateArgs> = {
  command: 'validate <file>',
  describe: 'Check a pipeline definition and that it can run here; print OK, or every problem as FILE:LINE:COL PATH: MESSAGE',
  builder: (y) =>
    definitionArgs(y)
      .option('environment', {
        type: 'boolean',
        default: true,
        describe: 'Also check inputs are readable, outputs writable, store.address bindable and store.join endpoints answering (--no-environment skips this)',
      })
      .option('ping-timeout', { type: 'number', default: DEFAULT_PING_TIMEOUT_MS, describe: 'Milliseconds a store.join endpoint has to answer' })
      .example('$0 pipeline validate config/pipelines/quickstart.yaml', 'check the quickstart pipeline')
      .example('$0 pipeline validate kjv5.yaml --set order=4 --no-environment', 'check the definition only, with order 4') as unknown as Argv<ValidateArgs>,
  handler: (args) =>
    runCommand('pipeline validate', async () => {
      const timeout = args['ping-timeout'];
      if (!(Number.isFinite(timeout) && timeout > 0)) throw new InputError(`--ping-timeout must be a number of milliseconds > 0, got ${timeout}`);
      const { loadPipeline } = await import('../../pipeline/definition/load.js');
      const { shownPath, validateEnvironment } = await import('../../pipeline/definition/validate_environment.js');
      const loaded = loadPipeline(args.file, args.set);
      const problems = [...loaded.problems];
      if (args.environment) problems.push(...(await validateEnvironment(loaded, { pingTimeoutMs: timeout })));
      if (problems.length > 0 || loaded.definition === null) return failWith(problems, args.file);
      const note = args.environment ? '' : ' (environment not checked)';
      process.stdout.write(`OK ${summary(loaded.definition, shownPath)}${note}\n`);
    }),
};

const graph: CommandModule<object, GraphArgs> = {
  command: 'graph <file>',
  describe: 'Print the stage graph of a pipeline: one line per edge, or Graphviz DOT with --dot',
  builder: (y) =>
    definitionArgs(y)
      .option('dot', { type: 'boolean', default: false, describe: 'Print Graphviz DOT (render with: dot -Tsvg)' })
      .example('$0 pipeline graph config/pipelines/kjv5.yaml --dot | dot -Tsvg > kjv5.svg', 'draw the benchmark pipeline') as unknown as Argv<GraphArgs>,
  handler: (args) =>
    runCommand('pipeline graph', async () => {
      const { loadPipeline } = await import('../../pipeline/definition/load.js');
      const { graphDot, graphText } = await import('../../pipeline/definition/graph.js');
      const loaded = loadPipeline(args.file, args.set);
      if (loaded.definition === null) return failWith(loaded.problems, args.file);
      process.stdout.write(args.dot ? graphDot(loaded.definition) : graphText(loaded.definition));
    }),
};

const run: CommandModule<object, RunArgs> = {
  command: 'run <file>',
  describe: 'Run a pipeline: count its inputs into the store (stage actors, exactly once, resumable), then smooth and export',
  builder: (y) =>
    definitionArgs(y)
      .option('quiet', { type: 'boolean', default: false, describe: 'Print no progress, only the summary' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the summary as one JSON object' })
      .option('connect-timeout', { type: 'number', default: DEFAULT_PING_TIMEOUT_MS, describe: 'Milliseconds a store.join endpoint has to answer' })
      .option('worker-wait', { type: 'number', default: 120000, describe: 'Milliseconds to wait for the pipeline workers of the hosts stages are placed on' })
      .option('listen', { type: 'string', describe: 'Where pipeline workers of other hosts connect, tcp://ADDRESS:PORT (only when a stage has a host; default tcp://127.0.0.1:0, printed)' })
      .option('stage-modules', { type: 'string', hidden: true, describe: 'URL of a module exporting STAGE_MODULES and listReadTasks (tests)' })
      .example('$0 pipeline run config/pipelines/quickstart.yaml', 'train the quickstart model')
      .example('$0 pipeline run kjv5.yaml --set stages.count.workers=4 --json', 'with 4 count workers, summary as JSON') as unknown as Argv<RunArgs>,
  handler: (args) =>
    runCommand('pipeline run', async () => {
      const timeout = args['connect-timeout'];
      if (!(Number.isFinite(timeout) && timeout > 0)) throw new InputError(`--connect-timeout must be a number of milliseconds > 0, got ${timeout}`);
      const { loadPipeline } = await import('../../pipeline/definition/load.js');
      const loaded = loadPipeline(args.file, args.set);
      if (loaded.definition === null) return failWith(loaded.problems, args.file);
      const { loadStageModules } = await import('../../pipeline/runtime/stage_modules.js');
      const { runPipeline } = await import('../../pipeline/runtime/run_pipeline.js');
      const report = await import('../../pipeline/runtime/run_report.js');
      const tty = process.stderr.isTTY === true;
      let shown = 0;
      let lastPlain = 0;
      const result = await runPipeline(loaded.definition, await loadStageModules(args['stage-modules']), {
        log: (line) => {
          shown = 0; // a notice breaks the block being rewritten
          process.stderr.write(`${line}\n`);
        },
        connectTimeoutMs: timeout,
        listen: args.listen,
        workerWaitMs: args['worker-wait'],
        progressMs: tty ? 250 : 5000,
        onProgress: (p) => {
          if (args.quiet) return;
          const lines = report.progressLines(p);
          if (tty) {
            process.stderr.write(report.rewriteInPlace(shown, lines));
            shown = lines.length;
          } else if (p.elapsedMs - lastPlain >= 5000) {
            lastPlain = p.elapsedMs;
            process.stderr.write(`${lines.join('\n')}\n`);
          }
        },
      });
      if (args.json) process.stdout.write(`${JSON.stringify(report.summaryJson(result))}\n`);
      else process.stdout.write(`${report.summaryLines(result).join('\n')}\n`);
    }),
};

interface WorkerArgs {
  connect: string;
  name: string;
}

const worker: CommandModule<object, WorkerArgs> = {
  command: 'worker',
  describe: "Join a running pipeline from another host: run the stage actors its YAML places on host NAME (stages.S.host), until the run ends",
  builder: (y) =>
    y
      .option('connect', { type: 'string', demandOption: true, describe: "The coordinator's worker endpoint, as `pipeline run` prints it (or its --listen)" })
      .option('name', { type: 'string', demandOption: true, describe: 'The host name this worker serves, as declared under hosts: in the YAML' })
      .example('$0 pipeline worker --connect tcp://10.0.0.4:7000 --name gpu1', 'serve the stages with host: gpu1') as unknown as Argv<WorkerArgs>,
  handler: (args) =>
    runCommand('pipeline worker', async () => {
      const { checkEndpoint } = await import('../../store/protocol/endpoint.js');
      try {
        checkEndpoint(args.connect, '--connect');
      } catch (err) {
        throw new InputError((err as Error).message);
      }
      const { runWorker } = await import('../../pipeline/runtime/remote_worker.js');
      await runWorker({ connect: args.connect, name: args.name, log: (line) => process.stderr.write(`${line}\n`) });
    }),
};

const tap: CommandModule<object, TapArgs> = {
  command: 'tap [file]',
  describe: 'Print messages leaving a stage of a running pipeline as JSON lines (a sample: the stage never waits for tap)',
  builder: (y) =>
    y
      .positional('file', { type: 'string', describe: 'The running pipeline\'s YAML file (its run is found in out/.dbslm-metrics here); default: the last run started here' })
      .option('set', {
        type: 'string',
        coerce: (v: string | string[] | undefined) => (v === undefined ? [] : ([] as string[]).concat(v)),
        describe: 'Overrides the run was started with (PATH=VALUE, repeatable), if they change its name',
      })
      .option('connect', {
        type: 'string',
        coerce: (v: string | string[] | undefined) => (v === undefined ? [] : ([] as string[]).concat(v)),
        describe: 'A tap endpoint of the stage (repeatable, one per worker), as recorded in out/.dbslm-metrics "taps"',
      })
      .option('stage', { type: 'string', demandOption: true, describe: 'The stage to tap (read, split, count, ...)' })
      .option('limit', { type: 'number', default: 10, describe: 'Print this many messages, then exit 0' })
      .option('timeout', { type: 'number', default: 5000, describe: 'Fail when no message arrives for this many milliseconds' })
      .example('$0 pipeline tap config/pipelines/quickstart.yaml --stage split --limit 3', 'three SentenceBatches of the running quickstart pipeline')
      .example('$0 pipeline tap --connect ipc:///tmp/dbslm-run-x/tap-count-0.sock --stage count --limit 1', 'one CountBatch from one worker') as unknown as Argv<TapArgs>,
  handler: (args) =>
    runCommand('pipeline tap', async () => {
      for (const [flag, v] of [['limit', args.limit], ['timeout', args.timeout]] as const) {
        if (!(Number.isInteger(v) && v > 0)) throw new InputError(`--${flag} must be a whole number > 0, got ${v}`);
      }
      const { tapEndpointsOf, tapStage } = await import('../../pipeline/runtime/tap_client.js');
      let endpoints = args.connect ?? [];
      if (endpoints.length === 0) {
        let name: string | null = null;
        if (args.file !== undefined) {
          const { loadPipeline } = await import('../../pipeline/definition/load.js');
          const loaded = loadPipeline(args.file, args.set ?? []);
          if (loaded.definition === null) return failWith(loaded.problems, args.file);
          name = loaded.definition.name;
        }
        const { defaultMetricsFile, readMetricsFile } = await import('../../pipeline/metrics/endpoint_file.js');
        const file = defaultMetricsFile();
        endpoints = tapEndpointsOf(readMetricsFile(file), file, args.stage, name);
      } else {
        const { checkEndpoint } = await import('../../store/protocol/endpoint.js');
        for (const ep of endpoints) {
          try {
            checkEndpoint(ep, '--connect');
          } catch (err) {
            throw new InputError((err as Error).message);
          }
        }
      }
      await tapStage({ stage: args.stage, endpoints, limit: args.limit, timeoutMs: args.timeout, write: (line) => process.stdout.write(line) });
    }),
};

export const pipelineCommand: CommandModule = {
  command: 'pipeline <command>',
  describe: 'Streaming training pipelines defined in YAML: validate a definition, draw its stage graph, run it, tap a running stage',
  builder: (y) =>
    y
      .command(validate as unknown as CommandModule)
      .command(graph as unknown as CommandModule)
      .command(run as unknown as CommandModule)
      .command(worker as unknown as CommandModule)
      .command(tap as unknown as CommandModule)
      .demandCommand(1, 'Name a pipeline command; see the list above.')
      .epilog('Definitions are described in README.md, section Pipelines; examples are in config/pipelines/.'),
  handler: () => undefined,
};
