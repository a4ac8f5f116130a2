// Store actor child processes for the store core tests (node dist/store/actor_main.js), killed on teardown.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';

export const ACTOR_MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'store', 'actor', 'main.js');

export interface Actor {
  ep: string;
  dir: string;
  proc: ChildProcess;
  output: () => string;
}

export const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'dbslm-'));

/** Start an actor and wait for its `listening <endpoint>` line. */
export async function spawnActor(t: ExecutionContext, id: string, opts: { dir?: string; bind?: string; extra?: string[] } = {}): Promise<Actor> {
  const dir = opts.dir ?? tmpDir();
  const args = [ACTOR_MAIN, '--id', id, '--data', dir, '--bind', opts.bind ?? 'tcp://127.0.0.1:0', ...(opts.extra ?? [])];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  let out = '';
  proc.stderr!.on('data', (d) => (out += d));
  const ep = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`actor ${id} printed no endpoint within 15 s:\n${out}`)), 15000);
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /^listening (\S+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`actor ${id} exited with ${code} before listening:\n${out}`));
    });
  });
  return { ep, dir, proc, output: () => out };
}

/** Run the actor main expecting it to exit; resolves with its exit code and output. */
export function runToExit(args: string[], timeoutMs = 15000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [ACTOR_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout!.on('data', (d) => (out += d));
    proc.stderr!.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`actor did not exit within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

export function killed(proc: ChildProcess): Promise<void> {
  return new Promise((r) => (proc.exitCode !== null || proc.signalCode !== null ? r() : proc.once('exit', () => r())));
}
