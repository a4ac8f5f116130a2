// Real store actor processes for the cluster tests: `dbslm store start` children on loopback, killed on teardown.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { CLUSTER_COMMANDS } from '../../schemas/cluster.js';
import { MOVE_COMMANDS } from '../../schemas/moves.js';
import type { StoreClient } from '../../store/client/client.js';
import type { OwnershipRow } from '../../store/map/ownership_history.js';
import type { ForkEntry, MemberUpdate } from '../../schemas/fork_map.js';

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'cli', 'main.js');

export interface ActorProc { id: string; ep: string; dir: string; proc: ChildProcess; log: () => string }

export async function startActor(t: ExecutionContext, id: string, opts: { join?: string[]; deadAfterMs?: number; dir?: string } = {}): Promise<ActorProc> {
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'dbslm-'));
  const args = [cli, 'store', 'start', '--id', id, '--bind', 'tcp://127.0.0.1:0', '--data', dir];
  for (const j of opts.join ?? []) args.push('--join', j);
  if (opts.deadAfterMs) args.push('--dead-after', String(opts.deadAfterMs));
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (proc.exitCode === null) {
      proc.kill('SIGCONT');
      proc.kill('SIGKILL');
    }
  });
  let out = '';
  proc.stderr!.on('data', (d) => (out += d));
  const ep = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`actor ${id} printed no endpoint within 15 s; output:\n${out}`)), 15000);
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /tcp:\/\/127\.0\.0\.1:\d+/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    });
    proc.on('exit', (code) => reject(new Error(`actor ${id} exited with ${code} before binding:\n${out}`)));
  });
  return { id, ep, dir, proc, log: () => out };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(what: string, cond: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 50): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await cond()) return performance.now() - start;
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export interface MembersView { id: string; lease: boolean; deadAfterMs: number; members: MemberUpdate[]; forks: ForkEntry[] }

export async function members(client: StoreClient, ep: string, timeoutMs = 2000): Promise<MembersView> {
  const rep = await client.raw(ep, 'members', CLUSTER_COMMANDS.members.encodeRequest({}), timeoutMs);
  if (rep.code !== 'OK') throw new Error(`members from ${ep}: ${rep.code} ${rep.message}`);
  return CLUSTER_COMMANDS.members.decodeReply(rep.body) as MembersView;
}

export async function history(client: StoreClient, ep: string): Promise<OwnershipRow[]> {
  const rep = await client.raw(ep, 'history', CLUSTER_COMMANDS.history.encodeRequest({}), 5000);
  if (rep.code !== 'OK') throw new Error(`history from ${ep}: ${rep.code} ${rep.message}`);
  return CLUSTER_COMMANDS.history.decodeReply(rep.body).rows;
}

export async function move(client: StoreClient, ep: string, fork: string, to: string, force = false): Promise<{ code: string; message: string; epoch?: number; keys?: number }> {
  const rep = await client.raw(ep, 'move', MOVE_COMMANDS.move.encodeRequest({ fork, to, force, hops: 0 }), 120000);
  if (rep.code !== 'OK') return { code: rep.code, message: rep.message };
  const r = MOVE_COMMANDS.move.decodeReply(rep.body);
  return { code: 'OK', message: '', epoch: r.epoch, keys: r.keys };
}

export function stateOf(v: MembersView, id: string): string | undefined {
  return v.members.find((m) => m.id === id)?.state;
}
