// Store actor child processes for the store core tests (node dist/store/actor/main.js), killed on
// teardown. Launching is cli/io/actor_process.ts's; this adds the teardown and the short names
// the tests use.
import { spawn, type ChildProcess } from 'node:child_process';
import type { ExecutionContext } from 'ava';
import { ACTOR_MAIN_SCRIPT, launchActor } from '../../cli/io/actor_process.js';
import { tempDir } from './temp_dir.js';

export interface Actor {
  ep: string;
  dir: string;
  proc: ChildProcess;
  output: () => string;
}

/** A fresh temporary directory, removed when the test process exits (actors write WALs of up to 128 MiB). */
export const tmpDir = (): string => tempDir('dbslm-');

/** Start an actor and wait for its `listening <endpoint>` line. */
export async function spawnActor(t: ExecutionContext, id: string, opts: { dir?: string; bind?: string; extra?: string[] } = {}): Promise<Actor> {
  const actor = await launchActor({ id, dataDir: opts.dir, bind: opts.bind, extraArgs: opts.extra });
  t.teardown(() => actor.kill());
  return { ep: actor.endpoint, dir: actor.dataDir, proc: actor.proc, output: actor.output };
}

/** Run the actor main expecting it to exit; resolves with its exit code and output. */
export function runToExit(args: string[], timeoutMs = 15000): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [ACTOR_MAIN_SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout!.on('data', (d) => (out += d));
    proc.stderr!.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`actor did not exit within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out });
    });
  });
}

export function killed(proc: ChildProcess): Promise<void> {
  return new Promise((r) => (proc.exitCode !== null || proc.signalCode !== null ? r() : proc.once('exit', () => r())));
}
