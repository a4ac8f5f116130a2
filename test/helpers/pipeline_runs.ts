// `dbslm pipeline run` as the acceptance tests drive it: YAML written into a temporary directory
// (store data inside it), the real CLI as a child process, its --json summary parsed, and the
// stage actors it spawned found by their command line (for the kill -9 tests).
import { seededRandom } from '../../model/sample.js';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI } from './paths.js';
import { tempDir } from './temp_dir.js';

/** The parts of the run summary (pipeline/runtime/run_report.ts) the tests read. */
export interface RunSummary {
  counting: { batches: number; skipped: number; words: number; lines: number; badLines: number; firstBad: string[]; redelivered: number; stages: { name: string; restarts: number }[] } | null;
  smooth: { counts: number[] } | null;
  arpa: { path: string; bytes: number } | null;
  evaluation: unknown;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export const acceptDir = () => tempDir('dbslm-accept-');

/** A pipeline YAML: `name`, the inputs (paths as given), order 3 and the lines of `extra`; store data in DIR/store, ARPA at DIR/NAME.arpa. */
export function writePipeline(dir: string, name: string, inputs: string[], extra: string[] = []): string {
  const file = path.join(dir, `${name}.yaml`);
  // Order 3 unless `extra` names one.
  const order = extra.some((l) => l.startsWith('order:')) ? [] : ['order: 3'];
  const lines = [`name: ${name}`, 'inputs:', ...inputs.map((p) => `  - path: ${JSON.stringify(p)}`), ...order, ...extra];
  if (!extra.some((l) => l.startsWith('store:'))) lines.push('store:', '  data: store');
  if (!extra.some((l) => l.startsWith('export:'))) lines.push('export:', `  arpa: ${name}.arpa`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** Start `dbslm ARGS...` (`input`: its standard input); the returned promise resolves when it exits (by itself, by a signal or after `timeoutMs`: killed). */
export function startCli(args: string[], opts: { cwd?: string; timeoutMs?: number; input?: string } = {}): { proc: ChildProcess; done: Promise<CliResult> } {
  const started = performance.now();
  const proc = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (opts.input !== undefined) proc.stdin!.end(opts.input);
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d) => (stdout += d));
  proc.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), opts.timeoutMs ?? 120000);
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
  return { proc, done };
}

export function dbslmAsync(args: string[], opts: { cwd?: string; timeoutMs?: number; input?: string } = {}): Promise<CliResult> {
  return startCli(args, opts).done;
}

/** `pipeline run YAML --json ARGS...`, expected to succeed: the summary and the result. */
export async function runPipeline(yaml: string, args: string[] = [], timeoutMs = 120000): Promise<{ summary: RunSummary; result: CliResult }> {
  const result = await dbslmAsync(['pipeline', 'run', yaml, '--json', ...args], { timeoutMs });
  if (result.code !== 0) throw new Error(`pipeline run ${path.basename(yaml)} ${args.join(' ')} exited ${result.code ?? result.signal} after ${Math.round(result.ms)} ms:\n${result.stderr}`);
  return { summary: JSON.parse(result.stdout) as RunSummary, result };
}

/** Fail with the CLI's output when it did not exit 0; else its stdout. */
export async function cliOk(args: string[]): Promise<string> {
  const r = await dbslmAsync(args);
  if (r.code !== 0) throw new Error(`dbslm ${args.join(' ')} exited ${r.code ?? r.signal}:\n${r.stderr}`);
  return r.stdout;
}

export interface StageProcess {
  pid: number;
  stage: string;
  worker: number;
}

/** The stage actor processes (pipeline/runtime/stage_actor.js) that are children of `parent`, read from /proc. */
export function stageActors(parent: number): StageProcess[] {
  const found: StageProcess[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces, so split after its closing parenthesis.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parent) continue;
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (!argv[1]?.endsWith('stage_actor.js')) continue;
      const spec = JSON.parse(argv[2]!) as { stage: string; worker: number };
      found.push({ pid: Number(entry), stage: spec.stage, worker: spec.worker });
    } catch {
      // The process ended while we read it.
    }
  }
  return found;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A small seeded generator (the sampler's mulberry32), so a failing chaos seed can be rerun. */
export const seeded = seededRandom;
