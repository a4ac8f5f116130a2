// `node dist/bench/replication.js`: what replication costs and how fast a failover is (issue 10).
// 1. Durable batched increments/s through one client into a 2-member cluster whose first member
//    owns every fork, with --replicas 1 and then --replicas 2 (the other member holds every
//    replica), in the same run; the ratio is the figure (issue 10's target: R = 2 at least 60% of R = 1).
// 2. Failover time over BENCH_KILLS kills (default 20): a fresh 3-member cluster (R = 2, dead bound
//    BENCH_DEAD_AFTER ms, default 1500) per kill, a writer of exactly-once batches into one fork,
//    kill -9 of the fork's owner, time until the writer's next batch is acknowledged. p50/p99.
// BENCH_ACTOR_NODE_ARGS passes node flags to the actors (bench/actor_procs.ts), e.g.
// '--cpu-prof --cpu-prof-dir=/tmp/prof' with BENCH_KILLS=0: the throughput runs stop their actors with
// SIGTERM, so each writes its profile.
import { launchActor, type ActorProcess } from '../cli/io/actor_process.js';
import { CLUSTER_COMMANDS } from '../schemas/cluster.js';
import { StoreClient, type ClientOp } from '../store/client/client.js';
import { makeKey } from '../store/protocol/keys.js';
import { ACTOR_NODE_ARGS, machineBusyMs, processCpuMs } from './actor_procs.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const KILLS = Number(process.env.BENCH_KILLS ?? 20);
const DEAD_AFTER = Number(process.env.BENCH_DEAD_AFTER ?? 1500);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const running: ActorProcess[] = [];

async function start(id: string, replicas: number, join: string[] = []): Promise<ActorProcess> {
  const a = await launchActor({ id, join, replicas, deadAfterMs: DEAD_AFTER, stderr: 'capture', nodeArgs: ACTOR_NODE_ARGS });
  running.push(a);
  return a;
}
async function stopAll(how: 'kill' | 'stop' = 'kill'): Promise<void> {
  await Promise.all(running.splice(0).map((a) => a[how]()));
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** Until every fork of `owner` has `inSync` in-sync replicas, as `ep` sees the map. */
async function settled(client: StoreClient, ep: string, owner: string, inSync: number, timeoutMs = 30000): Promise<void> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const rep = await client.raw(ep, 'members', CLUSTER_COMMANDS.members.encodeRequest({}), 2000);
    const v = CLUSTER_COMMANDS.members.decodeReply(rep.body);
    if (v.lease && v.members.every((m) => m.state === 'alive') && v.forks.every((f) => f.owner === owner && (f.inSync ?? []).length === inSync)) return;
    if (performance.now() > until) throw new Error(`the cluster did not settle with ${inSync} in-sync replicas per fork within ${timeoutMs} ms`);
    await sleep(100);
  }
}

const CONTEXTS = 2000;
const KEYS = Array.from({ length: CONTEXTS }, (_, c) => Array.from({ length: 100 }, (_, f) => makeKey('bench', Buffer.from(`context-${c}`), Buffer.from(`w${f}`))));

/** Batched increments as bench/store.ts sends them: 2000 per call (~20 fork-local batches), 32 calls in flight. */
async function increments(client: StoreClient): Promise<{ rate: number; p50: number; p99: number }> {
  const lat: number[] = [];
  let units = 0;
  let i = 0;
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (performance.now() < end) {
        const n = i++;
        const ops: ClientOp[] = [];
        for (let j = 0; j < 2000; j++) ops.push({ op: 'incr', key: KEYS[(n * 20 + (j % 20)) % CONTEXTS]![Math.floor(j / 20)]!, delta: 1 });
        const s = performance.now();
        await client.batch(ops);
        lat.push(performance.now() - s);
        units += ops.length;
      }
    }),
  );
  return { rate: units / ((performance.now() - t0) / 1000), p50: pct(lat, 50), p99: pct(lat, 99) };
}

interface Throughput {
  rate: number;
  p50: number;
  p99: number;
  /** CPU time of the owner and of the other member over the run, as a share of its wall time. */
  ownerCpu: number;
  otherCpu: number;
  /** The same for this process, the client (on a 2-core machine the three share the cores). */
  clientCpu: number;
  /** CPU the rest of the machine used meanwhile (other work on a shared machine), in cores. */
  restCpu: number;
}

async function throughput(replicas: number): Promise<Throughput> {
  const a = await start('a', replicas);
  const b = await start('b', replicas, [a.endpoint]);
  const client = await StoreClient.connect(a.endpoint, { timeoutMs: 30000, retries: 20 });
  await settled(client, a.endpoint, 'a', replicas - 1);
  const cpu0 = [processCpuMs(a.proc.pid), processCpuMs(b.proc.pid), processCpuMs(process.pid)];
  const busy0 = machineBusyMs();
  const t0 = performance.now();
  const r = await increments(client);
  const wall = performance.now() - t0;
  const [ownerCpu, otherCpu, clientCpu] = [a.proc.pid, b.proc.pid, process.pid].map((pid, i) => (processCpuMs(pid) - cpu0[i]!) / wall);
  const restCpu = (machineBusyMs() - busy0) / wall - ownerCpu! - otherCpu! - clientCpu!;
  client.close();
  await stopAll('stop');
  return { ...r, ownerCpu: ownerCpu!, otherCpu: otherCpu!, clientCpu: clientCpu!, restCpu };
}

/** One kill: ms from the kill -9 of the busy fork's owner to the next acknowledged batch. */
async function failoverOnce(k: number): Promise<number> {
  const a = await start('a', 2);
  await start('b', 2, [a.endpoint]);
  await start('c', 2, [a.endpoint]);
  const client = await StoreClient.connect(running.map((x) => x.endpoint), { timeoutMs: 3000, retries: 20 });
  await settled(client, a.endpoint, 'a', 1);
  let stop = false;
  let killedAt = 0;
  let resumed = 0;
  const key = makeKey('bench', Buffer.from('busy'), Buffer.from('n'));
  const writer = (async () => {
    for (let i = 0; !stop; i++) {
      for (;;) {
        try {
          await client.batchAs(`k${k}-${i}`, [{ op: 'incr', key, delta: 1 }]);
          break;
        } catch {
          await sleep(10);
        }
      }
      if (killedAt && !resumed) resumed = performance.now();
    }
  })();
  await sleep(300);
  await a.kill();
  killedAt = performance.now();
  while (!resumed && performance.now() - killedAt < DEAD_AFTER * 6) await sleep(10);
  stop = true;
  await writer;
  client.close();
  await stopAll();
  if (!resumed) throw new Error(`kill ${k}: writes did not resume within ${DEAD_AFTER * 6} ms`);
  return resumed - killedAt;
}

async function main(): Promise<void> {
  console.log(`replicated durable increments (2 members, the first owns every fork; ${SECONDS}s each, one client process)`);
  const r1 = await throughput(1);
  const r2 = await throughput(2);
  // CPU per increment drifts less than the rate on a shared machine: it says where the work grew.
  const share = (x: number) => `${(100 * x).toFixed(0)}%`;
  const perIncr = (cpu: number, rate: number) => ((1e6 * cpu) / rate).toFixed(1);
  const line = (name: string, r: Throughput) =>
    console.log(
      `  ${name}  ${Math.round(r.rate).toLocaleString('en-US').padStart(9)} incr/s   batch p50 ${r.p50.toFixed(1)} ms  p99 ${r.p99.toFixed(1)} ms   ` +
        `CPU owner ${share(r.ownerCpu)} (${perIncr(r.ownerCpu, r.rate)} us/incr) other ${share(r.otherCpu)} (${perIncr(r.otherCpu, r.rate)} us/incr) ` +
        `client ${share(r.clientCpu)} (${perIncr(r.clientCpu, r.rate)} us/incr); the rest of the machine ${share(r.restCpu)}`,
    );
  line('R = 1', r1);
  line('R = 2', r2);
  console.log(`  R = 2 / R = 1: ${((100 * r2.rate) / r1.rate).toFixed(0)}% (issue 10 target: >= 60%)`);

  if (!KILLS) return;
  console.log(`\nfailover: ${KILLS} kills -9 of a busy fork's owner (3 members, R = 2, dead bound ${DEAD_AFTER} ms), ms to the next acknowledged write`);
  const times: number[] = [];
  for (let k = 0; k < KILLS; k++) times.push(await failoverOnce(k));
  console.log(`  p50 ${pct(times, 50).toFixed(0)} ms  p99 ${pct(times, 99).toFixed(0)} ms  min ${Math.min(...times).toFixed(0)}  max ${Math.max(...times).toFixed(0)}  (dead bound + 1 s = ${DEAD_AFTER + 1000} ms)`);
}

await main().catch(async (err) => {
  console.error(`bench:replication failed: ${(err as Error).stack}`);
  await stopAll();
  process.exit(1);
});
