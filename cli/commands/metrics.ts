// `dbslm metrics tail`: the live metrics of a running pipeline (README "Pipelines", "Metrics").
// ZeroMQ loads in the handler, so other commands do not pay for it.
import type { Argv, CommandModule } from 'yargs';
import { InputError } from '../../model/errors.js';
import { runCommand } from '../run_command.js';

interface TailArgs {
  connect?: string;
  interval: number;
  json: boolean;
  timeout: number;
}

const positive = (flag: string, v: number) => {
  if (!(Number.isFinite(v) && v > 0)) throw new InputError(`--${flag} must be a number of milliseconds > 0, got ${v}`);
};

const tail: CommandModule<object, TailArgs> = {
  command: 'tail',
  describe: 'Show a running pipeline: a live table per stage and store actor, or JSON lines',
  builder: (y) =>
    y
      .option('connect', { type: 'string', describe: 'The hub tail endpoint the pipeline printed; default: the one recorded in out/.dbslm-metrics here' })
      .option('interval', { type: 'number', default: 1000, describe: 'Milliseconds between lines (rates are over this interval)' })
      .option('json', { type: 'boolean', default: false, describe: 'One JSON line per interval (the default when stdout is not a terminal)' })
      .option('timeout', { type: 'number', default: 5000, describe: 'Fail when nothing arrives for this many milliseconds' })
      .example('$0 metrics tail', 'watch the pipeline last started in this directory')
      .example('$0 metrics tail --connect tcp://127.0.0.1:7101 --json | head -3', 'three JSON lines') as unknown as Argv<TailArgs>,
  handler: (args) =>
    runCommand('metrics tail', async () => {
      positive('interval', args.interval);
      positive('timeout', args.timeout);
      const { defaultMetricsFile, readMetricsFile } = await import('../../pipeline/metrics/endpoint_file.js');
      const { checkEndpoint } = await import('../../store/protocol/endpoint.js');
      const { tailMetrics } = await import('../../pipeline/metrics/tail.js');
      const endpoint = args.connect ?? readMetricsFile(defaultMetricsFile()).tail;
      try {
        checkEndpoint(endpoint, '--connect');
      } catch (err) {
        throw new InputError((err as Error).message);
      }
      await tailMetrics({
        endpoint,
        intervalMs: args.interval,
        json: args.json || !process.stdout.isTTY,
        timeoutMs: args.timeout,
        write: (text) => process.stdout.write(text),
        note: (text) => process.stderr.write(text),
      });
    }),
};

export const metricsCommand: CommandModule = {
  command: 'metrics <command>',
  describe: 'Live pipeline metrics: per stage and store actor counts, rates, latency and utilization',
  builder: (y) =>
    y
      .command(tail as unknown as CommandModule)
      .demandCommand(1, 'Name a metrics command; see the list above.')
      .epilog('Metrics are described in README.md, section Pipelines, Metrics. Prometheus: set metrics.port in the pipeline definition.'),
  handler: () => undefined,
};
