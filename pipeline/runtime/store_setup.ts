// The store a run counts into: local store actors spawned for it (store.mode 'spawn'), or a
// running store reached through any of the endpoints given (store.mode 'join').
//
// Spawned actors: the first starts alone, the others join it, so the membership and the fork map
// span all of them. A fresh store's forks are dealt to all of them by the first actor's initial
// map (--spread-over); a replicated one's (all owned by the first actor) are spread evenly by
// moves. Either way before any batch is written: batchAs groups a batch by the fork map, so no
// fork may move while the pipeline counts. An actor's data directory is kept: a second run reopens it.
//
// Spawned actors outlive a coordinator that is killed (SIGKILL leaves its children running), and a
// second run must not start a second actor on the same data. So their pids are kept in
// STORE_DATA/actors.json, and a run first stops the actors a previous run left there (only
// processes whose command line names that actor's data directory: a pid may have been reused).
import fs from 'node:fs';
import path from 'node:path';
import { launchActor, type ActorProcess } from '../../cli/io/actor_process.js';
import { CLUSTER_COMMANDS } from '../../schemas/cluster.js';
import { MOVE_COMMANDS } from '../../schemas/moves.js';
import { StoreClient } from '../../store/client/client.js';
import { InputError } from '../../model/errors.js';
import type { StoreDefinition } from '../definition/definition.js';
import { spawnedStoreBindProblem } from '../definition/validate_environment.js';

export interface OpenStore {
  /** Every member's endpoint (the seeds stage actors connect through). */
  endpoints: string[];
  client: StoreClient;
  /** Spawned actors with their process ids (empty when joining a running store). */
  actors: { id: string; pid: number }[];
  /** Stops spawned actors (SIGTERM: they flush and close) and closes the client. */
  close(): Promise<void>;
}

const SPREAD_CONCURRENCY = 8;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function openStore(store: StoreDefinition, opts: { connectTimeoutMs?: number; onNotice?: (line: string) => void } = {}): Promise<OpenStore> {
  const timeoutMs = opts.connectTimeoutMs ?? 5000;
  if (store.mode === 'join') {
    const client = await connectWithin(store.endpoints, timeoutMs);
    return { endpoints: [...new Set([...store.endpoints, ...client.members.values()])], client, actors: [], close: async () => client.close() };
  }
  const started: ActorProcess[] = [];
  const pidFile = path.join(store.dataDir, 'actors.json');
  const stopped = await stopLeftovers(pidFile);
  if (stopped.length > 0) opts.onNotice?.(`stopped store actors a previous run left running: ${stopped.join(', ')}`);
  try {
    // The first actor deals a fresh store's forks to every member from the start (it ignores this
    // when its data directory holds a map already); replicated stores still spread by moves below.
    const ids = store.actors.map((a) => a.id);
    const [first, ...others] = store.actors;
    const spreadOver = ids.length > 1 && (store.replicas ?? 1) <= 1 ? ids : undefined;
    const address = store.address ?? '127.0.0.1';
    const problem = store.address === undefined ? null : await spawnedStoreBindProblem(address);
    if (problem) throw new InputError(`store.address: ${problem}`);
    const bind = `tcp://${address}:0`;
    started.push(await launchActor({ id: first!.id, dataDir: first!.dataDir, bind, deadAfterMs: store.deadAfterMs, replicas: store.replicas, spreadOver }));
    // The others join the first at once: each start is mostly Node's own start-up.
    const joined = await Promise.allSettled(others.map((actor) => launchActor({ id: actor.id, dataDir: actor.dataDir, bind, join: [started[0]!.endpoint], deadAfterMs: store.deadAfterMs, replicas: store.replicas })));
    for (const r of joined) if (r.status === 'fulfilled') started.push(r.value);
    const failed = joined.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    fs.mkdirSync(store.dataDir, { recursive: true });
    fs.writeFileSync(pidFile, JSON.stringify(started.map((a) => ({ id: a.id, pid: a.proc.pid, dataDir: a.dataDir }))));
    const endpoints = started.map((a) => a.endpoint);
    // Where they listen, for `store status --connect` and the like while the run goes on.
    opts.onNotice?.(`store actors: ${started.map((a) => `${a.id} at ${a.endpoint}`).join(', ')}`);
    const client = await connectWithin(endpoints, timeoutMs);
    await untilLeased(client, endpoints, 15000);
    if (started.length > 1) await spreadForks(client, endpoints[0]!, started.map((a) => a.id), opts.onNotice);
    return {
      endpoints,
      client,
      actors: started.map((a) => ({ id: a.id, pid: a.proc.pid ?? -1 })),
      close: async () => {
        client.close();
        await Promise.all(started.map((a) => a.stop()));
        fs.rmSync(pidFile, { force: true });
      },
    };
  } catch (err) {
    await Promise.all(started.map((a) => a.kill()));
    throw err;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops the actors listed in `pidFile` that still run on their data directory; returns their ids. */
async function stopLeftovers(pidFile: string): Promise<string[]> {
  let listed: { id: string; pid: number; dataDir: string }[];
  try {
    listed = JSON.parse(fs.readFileSync(pidFile, 'utf8')) as typeof listed;
  } catch {
    return [];
  }
  const ours = listed.filter(({ pid, dataDir }) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(dataDir);
    } catch {
      return false; // gone, or no /proc to tell whose it is: leave it
    }
  });
  for (const { pid } of ours) process.kill(pid, 'SIGTERM');
  const deadline = performance.now() + 5000;
  while (ours.some(({ pid }) => alive(pid)) && performance.now() < deadline) await sleep(50);
  for (const { pid } of ours) if (alive(pid)) process.kill(pid, 'SIGKILL');
  while (ours.some(({ pid }) => alive(pid))) await sleep(20);
  return ours.map((a) => a.id);
}

/**
 * Per-request timeout of the run's own client (smoothing, export, evaluation, the model checks):
 * an actor that is slow, frozen for a while or restarting is waited for and retried (the client's
 * default retries), not taken for an unreachable store.
 */
const RUN_REQUEST_TIMEOUT_MS = 30000;

async function connectWithin(endpoints: string[], timeoutMs: number): Promise<StoreClient> {
  try {
    // Reachable at all, within the user's --connect-timeout: fail fast, naming the endpoints.
    (await StoreClient.connect(endpoints, { timeoutMs, retries: 0 })).close();
  } catch (err) {
    // The user's to fix (exit 1): a store that is not running, or endpoints mistyped.
    throw new InputError(`the store did not answer at ${endpoints.join(', ')} within ${timeoutMs} ms (${(err as Error).message})`, undefined, undefined, 'start the store, or correct store.join');
  }
  return StoreClient.connect(endpoints, { timeoutMs: RUN_REQUEST_TIMEOUT_MS });
}

/**
 * Waits until every member holds its write lease: reopened actors need acks from a quorum first,
 * and until then answer writes FENCED for longer than a client retries.
 */
async function untilLeased(client: StoreClient, endpoints: string[], timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (const ep of endpoints) {
    for (;;) {
      const rep = await client.raw(ep, 'members', CLUSTER_COMMANDS.members.encodeRequest({}), 2000).catch(() => null);
      if (rep?.code === 'OK' && CLUSTER_COMMANDS.members.decodeReply(rep.body).lease) break;
      if (performance.now() > deadline) throw new Error(`store actor at ${ep} did not get its write lease within ${timeoutMs} ms (it needs acks from a quorum of members)`);
      await sleep(100);
    }
  }
}

/**
 * A fresh store (every fork on one actor) gets its forks dealt round-robin to all members; a
 * store whose forks are already spread is left as it is. Moves of a joining member are retried
 * while it has not yet heard from a quorum (the move answers FENCED).
 */
export async function spreadForks(client: StoreClient, via: string, ids: string[], onNotice?: (line: string) => void): Promise<number> {
  const view = CLUSTER_COMMANDS.members.decodeReply((await client.raw(via, 'members', CLUSTER_COMMANDS.members.encodeRequest({}))).body);
  const owners = new Set(view.forks.map((f) => f.owner));
  if (owners.size !== 1) return 0;
  const from = [...owners][0]!;
  const moves = view.forks
    .map((f) => f.fork)
    .sort()
    .map((fork, i) => ({ fork, to: ids[i % ids.length]! }))
    .filter((m) => m.to !== from);
  const moveOne = async ({ fork, to }: { fork: string; to: string }) => {
    for (let attempt = 0; ; attempt++) {
      const rep = await client.raw(via, 'move', MOVE_COMMANDS.move.encodeRequest({ fork, to, force: false, hops: 0 }), 60000);
      if (rep.code === 'OK') return;
      if (!rep.retryable || attempt >= 50) throw new Error(`spreading the store's forks: move of fork ${fork} to ${to} failed: ${rep.code} ${rep.message}`);
      await sleep(100);
    }
  };
  // A few moves at once: an empty fork's move is mostly waiting on round trips.
  let next = 0;
  const lanes = Array.from({ length: SPREAD_CONCURRENCY }, async () => {
    while (next < moves.length) await moveOne(moves[next++]!);
  });
  await Promise.all(lanes);
  const moved = moves.length;
  const forks = view.forks;
  await client.refreshMap();
  onNotice?.(`spread ${moved} of ${forks.length} forks over ${ids.length} store actors`);
  return moved;
}
