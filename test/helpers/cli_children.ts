// The CLI as child processes that tests watch while they run (a pipeline run beside a `metrics
// tail`), and the metrics endpoint record a run's hub writes (out/.dbslm-metrics) waited for.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import type { MetricsEndpointRecord } from '../../pipeline/metrics/endpoint_file.js';
import { CLI } from './paths.js';

export interface Child {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** `dbslm ARGS...` in `cwd`, its output collected as it comes. */
export function startCli(args: string[], cwd: string): Child {
  const proc = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, stdout: () => out, stderr: () => err, exited };
}

/** The run's endpoint record, once its hub wrote it with the tap endpoints. */
export async function metricsRecordOf(file: string, pid: number, withinMs: number): Promise<MetricsEndpointRecord> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      const r = JSON.parse(fs.readFileSync(file, 'utf8')) as MetricsEndpointRecord;
      if (r.pid === pid && r.taps) return r;
    } catch {
      // not written yet
    }
    if (Date.now() > deadline) throw new Error(`${file} not written by pid ${pid} within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
