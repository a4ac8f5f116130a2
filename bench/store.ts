// `npm run bench:store`: throughput and latency of real store actors on loopback, 1 then 3 actors.
// Prints batched increments (durable: acknowledged after the group commit), pipelined point gets,
// multi-gets and scans, next to the cheetah-db figures and the issue-3 targets.
import os from 'node:os';
import { startActor, stopAll } from './actor_procs.js';
import { StoreClient, type ClientOp } from '../store/client/client.js';
import { ForkMap } from '../store/map/fork_map.js';
import { makeKey, rangePrefix } from '../store/protocol/keys.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const DURABILITY = durabilityFrom(process.env.BENCH_DURABILITY ?? 'normal');

function durabilityFrom(value: string): 'normal' | 'full' {
  if (value === 'normal' || value === 'full') return value;
  throw new Error(`BENCH_DURABILITY must be normal or full, got ${value}`);
}

function pct(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

interface Result {
  name: string;
  units: number;
  seconds: number;
  lat: number[];
  unit: string;
}

/** Run `op` with `inFlight` concurrent loops for SECONDS; `op` returns how many units it did. */
async function measure(name: string, unit: string, inFlight: number, op: (i: number) => Promise<number>): Promise<Result> {
  const lat: number[] = [];
  let units = 0;
  let i = 0;
  const end = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        const n = await op(i++); // (not `units += await`: that reads units before the await)
        units += n;
        lat.push(performance.now() - s);
      }
    }),
  );
  return { name, units, seconds: (performance.now() - t0) / 1000, lat, unit };
}

function report(r: Result, compare: string): void {
  const rate = r.units / r.seconds;
  console.log(
    `  ${r.name.padEnd(34)} ${Math.round(rate).toLocaleString('en-US').padStart(11)} ${r.unit}/s   p50 ${pct(r.lat, 50).toFixed(2)} ms  p99 ${pct(r.lat, 99).toFixed(2)} ms   ${compare}`,
  );
}

const CONTEXTS = 2000;
const FOLLOWERS = 100;
const ctx = (n: number) => Buffer.from(`context-${n}`);
// Keys are built before timing: making them is the producer's work (the counting stage has them
// already), not the store's.
const KEYS = Array.from({ length: CONTEXTS }, (_, c) => Array.from({ length: FOLLOWERS }, (_, f) => makeKey('bench', ctx(c), Buffer.from(`w${f}`))));
const key = (c: number, f: number) => KEYS[c]![f]!;

async function workloads(label: string, c: StoreClient, durability = DURABILITY, onlyIncrements = false): Promise<void> {
  console.log(`\n${label} (durability=${durability}, ${SECONDS}s per workload, one client process)`);
  // Batched increments: each call carries 2000 increments of distinct keys (20 contexts x 100
  // followers, so ~20 fork-local batches), as the counting stage sends them; acknowledged only after
  // the actor's group commit. Distinct keys: the actor sums repeated keys of a batch, which would flatter.
  const incr = await measure('batched increments', 'incr', 32, async (i) => {
    const ops: ClientOp[] = [];
    for (let j = 0; j < 2000; j++) ops.push({ op: 'incr', key: key((i * 20 + (j % 20)) % CONTEXTS, Math.floor(j / 20)), delta: 1 });
    await c.batch(ops);
    return ops.length;
  });
  report(incr, 'target >= 500k/s per actor durable; cheetah-db 72k sets/s (no durability)');
  if (onlyIncrements) return;
  for (const inFlight of [256, 1024]) {
    const gets = await measure(`pipelined point gets (${inFlight} in flight)`, 'get', inFlight, async (i) => {
      await c.get(key((i * 31) % CONTEXTS, i % FOLLOWERS));
      return 1;
    });
    report(gets, 'target >= 150k/s; cheetah-db 60k gets/s');
  }
  const mget = await measure('multi-gets (100 keys, 16 in flight)', 'key', 16, async (i) => {
    await c.multiGet(Array.from({ length: 100 }, (_, j) => key((i * 100 + j) % CONTEXTS, j % FOLLOWERS)));
    return 100;
  });
  report(mget, '');
  const scans = await measure('scans (one context, 8 in flight)', 'item', 8, async (i) => {
    let n = 0;
    for await (const _ of c.scan(rangePrefix('bench', ctx(i % CONTEXTS)), { pageSize: 1000 })) n++;
    return n;
  });
  report(scans, '');
}

async function main(): Promise<void> {
  const a = await startActor('a', { durability: DURABILITY });
  let c = await StoreClient.connect(a, { timeoutMs: 30000 });
  await workloads('1 actor', c);
  c.close();
  stopAll();

  const af = await startActor('a', { durability: 'full' });
  c = await StoreClient.connect(af, { timeoutMs: 30000 });
  await workloads('1 actor, fsync per commit', c, 'full', true);
  c.close();
  stopAll();

  const a3 = await startActor('a', { durability: DURABILITY });
  const b3 = await startActor('b', { join: [a3], durability: DURABILITY });
  const c3 = await startActor('c', { join: [a3], durability: DURABILITY });
  c = await StoreClient.connect(a3, { timeoutMs: 30000 });
  // Spread the forks round-robin (the actors are empty, so no data has to move).
  const owners = ['a', 'b', 'c'];
  const epoch = c.map.version + 1;
  const map = ForkMap.fromEntries([...c.map.entries.values()].map((e, i) => ({ fork: e.fork, owner: owners[i % 3]!, epoch })));
  const members = [
    { id: 'a', endpoint: a3 },
    { id: 'b', endpoint: b3 },
    { id: 'c', endpoint: c3 },
  ];
  for (const ep of [a3, b3, c3]) await c.call(ep, 'map-apply', { map: map.toJSON(), members });
  await c.refreshMap();
  await workloads('3 actors (forks round-robin)', c);
  c.close();
  stopAll();
  console.log(`\nmachine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), shared with other work; client and actors on the same host.`);
}

await main().catch((err) => {
  console.error(`bench:store failed: ${(err as Error).stack}`);
  stopAll();
  process.exit(1);
});
