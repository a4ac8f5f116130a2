// Real store actor processes for the cluster tests: `dbslm store start` children on loopback,
// killed on teardown (launched by cli/io/actor_process.ts), and the cluster requests they answer.
import { spawn, type ChildProcess } from 'node:child_process';
import type { ExecutionContext } from 'ava';
import { CLI_SCRIPT, launchActor } from '../../cli/io/actor_process.js';
import { CLUSTER_COMMANDS } from '../../schemas/cluster.js';
import { MOVE_COMMANDS } from '../../schemas/moves.js';
import { StoreClient } from '../../store/client/client.js';
import type { OwnershipRow } from '../../store/map/ownership_history.js';
import type { ForkEntry, MemberUpdate } from '../../schemas/fork_map.js';

export interface ActorProc { id: string; ep: string; dir: string; proc: ChildProcess; log: () => string }

export async function startActor(t: ExecutionContext, id: string, opts: { join?: string[]; deadAfterMs?: number; dir?: string; replicas?: number; spreadOver?: string[] } = {}): Promise<ActorProc> {
  const actor = await launchActor({ id, dataDir: opts.dir, join: opts.join, deadAfterMs: opts.deadAfterMs, replicas: opts.replicas, spreadOver: opts.spreadOver, throughCli: true });
  t.teardown(() => actor.kill());
  return { id, ep: actor.endpoint, dir: actor.dataDir, proc: actor.proc, log: actor.output };
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

/** `from`: move the replica of the fork on that member instead of the owner's copy. */
export async function move(client: StoreClient, ep: string, fork: string, to: string, force = false, from = ''): Promise<{ code: string; message: string; epoch?: number; keys?: number }> {
  const rep = await client.raw(ep, 'move', MOVE_COMMANDS.move.encodeRequest({ fork, to, force, hops: 0, from }), 120000);
  if (rep.code !== 'OK') return { code: rep.code, message: rep.message };
  const r = MOVE_COMMANDS.move.decodeReply(rep.body);
  return { code: 'OK', message: '', epoch: r.epoch, keys: r.keys };
}

export function stateOf(v: MembersView, id: string): string | undefined {
  return v.members.find((m) => m.id === id)?.state;
}

/** Runs `dbslm store ARGS...` through the real CLI; resolves with its exit code, output and how long it took. */
export function dbslmStore(args: string[], timeoutMs = 60000): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [CLI_SCRIPT, 'store', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout!.on('data', (d) => (stdout += d));
    proc.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`dbslm store ${args.join(' ')} did not exit within ${timeoutMs} ms:\n${stdout}${stderr}`));
    }, timeoutMs);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/**
 * Actors a, b and c, b and c joined to a, all alive and leased, the forks of the empty store dealt
 * to them from the start (`store start --spread-over a,b,c`: each owns about a third; moving them
 * there, as `store rebalance --apply` does, is store_cluster_rebalance.test.ts's), and a client
 * through a.
 */
export async function balancedTrio(t: ExecutionContext): Promise<{ a: ActorProc; b: ActorProc; c: ActorProc; client: StoreClient }> {
  const a = await startActor(t, 'a', { spreadOver: ['a', 'b', 'c'] });
  const [b, c] = await Promise.all(['b', 'c'].map((id) => startActor(t, id, { join: [a.ep] })));
  const client = await StoreClient.connect(a.ep, { retries: 20 });
  t.teardown(() => client.close());
  await until('b and c alive at a, every member leased', async () => {
    const v = await members(client, a.ep);
    if (stateOf(v, 'b') !== 'alive' || stateOf(v, 'c') !== 'alive') return false;
    const leased = await Promise.all([a, b!, c!].map(async (m) => (await members(client, m.ep)).lease));
    return leased.every((l) => l);
  }, 20000);
  await client.refreshMap();
  for (const id of ['a', 'b', 'c']) t.true(client.map.forksOf(id).length >= 60, `${id} owns ${client.map.forksOf(id).length} forks`);
  return { a, b: b!, c: c!, client };
}
