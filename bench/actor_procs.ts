// Store actor processes for the store benches: started on loopback with a fresh data directory,
// resolved with their bound endpoint, and stopped with the bench (also when it fails).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ACTOR_MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'store', 'actor', 'main.js');
// Node flags for the actor processes, e.g. BENCH_ACTOR_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'
// (NODE_OPTIONS refuses --cpu-prof).
const ACTOR_NODE_ARGS = (process.env.BENCH_ACTOR_NODE_ARGS ?? '').split(' ').filter(Boolean);
const children: ChildProcess[] = [];

export interface ActorOptions {
  join?: string[];
  durability?: string;
}

/** Starts an actor and resolves with the endpoint it printed as `listening <endpoint>`. */
export function startActor(id: string, { join = [], durability = 'normal' }: ActorOptions = {}): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbslm-bench-'));
  const args = [...ACTOR_NODE_ARGS, ACTOR_MAIN, '--id', id, '--data', dir, '--durability', durability, ...join.flatMap((j) => ['--join', j])];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(proc);
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /^listening (\S+)$/m.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.on('exit', (code) => reject(new Error(`actor ${id} exited with ${code}`)));
  });
}

/** Stops every actor started so far (SIGTERM: they flush and close their databases). */
export function stopAll(): void {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGTERM');
}

process.on('exit', stopAll);
