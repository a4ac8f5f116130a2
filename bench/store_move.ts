// `node dist/bench/store_move.js`: how fast a live fork move runs, idle and under writes to the moving fork, and how
// long writers stall on the fence. Two real actors on loopback; figures only, no assertions.
import { startActor } from './actor_procs.js';
import { MOVE_COMMANDS } from '../schemas/moves.js';
import { StoreClient } from '../store/client/client.js';
import { makeKey } from '../store/protocol/keys.js';

const KEYS = Number(process.env.BENCH_MOVE_KEYS ?? 100000);

async function move(c: StoreClient, ep: string, fork: string, to: string): Promise<{ ms: number; keys: number; rounds: number }> {
  const rep = await c.raw(ep, 'move', MOVE_COMMANDS.move.encodeRequest({ fork, to, force: false, hops: 0 }), 300000);
  if (rep.code !== 'OK') throw new Error(`move: ${rep.code} ${rep.message}`);
  return MOVE_COMMANDS.move.decodeReply(rep.body);
}

const a = await startActor('a');
const b = await startActor('b', { join: [a] });
const c = await StoreClient.connect(a, { retries: 50 });
await new Promise((r) => setTimeout(r, 1000));

// Keys whose routing prefixes all fall in fork 2a, 50 per context.
const keys: Buffer[] = [];
for (let ctx = 0; keys.length < KEYS; ctx++) {
  const probe = makeKey('bm', Buffer.from(`c${ctx}`));
  if (probe[0] !== 0x2a) continue;
  for (let j = 0; j < 50 && keys.length < KEYS; j++) keys.push(makeKey('bm', Buffer.from(`c${ctx}`), Buffer.from(`k${j}`)));
}
for (let i = 0; i < keys.length; i += 5000) await c.batch(keys.slice(i, i + 5000).map((key) => ({ op: 'set' as const, key, value: Buffer.from('0123456789abcdef') })));

const idle = await move(c, a, '2a', 'b');
console.log(`idle move of fork 2a: ${idle.keys} rows in ${idle.ms} ms = ${Math.round((idle.keys / idle.ms) * 1000)} rows/s, ${idle.rounds} tail rounds`);

await c.refreshMap();
let writing = true;
const lat: number[] = [];
let ops = 0;
const writer = (async () => {
  for (let i = 0; writing; i++) {
    const t0 = performance.now();
    const part = Array.from({ length: 400 }, (_, j) => keys[(i * 400 + j) % keys.length]!);
    await c.batch(part.map((key) => ({ op: 'set' as const, key, value: Buffer.from(`v${i}`) })));
    lat.push(performance.now() - t0);
    ops += part.length;
  }
})();
await new Promise((r) => setTimeout(r, 500));
const before = ops;
const t0 = performance.now();
const busy = await move(c, b, '2a', 'a');
const during = ((ops - before) / (performance.now() - t0)) * 1000;
writing = false;
await writer;
lat.sort((x, y) => x - y);
console.log(`move under writes: ${busy.keys} rows (snapshot + tail) in ${busy.ms} ms, ${busy.rounds} tail rounds; writers kept ${Math.round(during)} ops/s during the move`);
console.log(`client batch latency while moving: p50 ${lat[Math.floor(lat.length / 2)]!.toFixed(1)} ms, p99 ${lat[Math.floor(lat.length * 0.99)]!.toFixed(1)} ms, max ${lat[lat.length - 1]!.toFixed(1)} ms (includes FENCED retries)`);
c.close();
process.exit(0);
