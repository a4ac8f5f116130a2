// Acceptance: fork moves under load. Three real actors; 200k keys written in exactly-once batches while forks move
// back and forth and readers read. Afterwards every key holds its last written value, every counter its exact total,
// every member's ownership history holds every move made, and no fork ever had two owners in one epoch.
import test from 'ava';
import { StoreClient, type ClientOp } from '../store/client/client.js';
import { ownershipConflicts } from '../store/map/ownership_history.js';
import { makeKey } from '../store/protocol/keys.js';
import { history, members, move, sleep, startActor, until } from './helpers/cluster_procs.js';

const CONTEXTS = 4000;
const PER_CONTEXT = 50; // 200k keys
const WRITERS = 4;
const COUNTERS = 500;

const keyOf = (ctx: number, j: number) => makeKey('mv', Buffer.from(`ctx${ctx}`), Buffer.from(`w${j}`));
const counterKey = (i: number) => makeKey('mc', Buffer.from(`n${i}`));

test('200k keys stay exact while forks move back and forth under concurrent writes and reads', async (t) => {
  t.timeout(180000);
  const a = await startActor(t, 'a');
  const b = await startActor(t, 'b', { join: [a.ep] });
  const c = await startActor(t, 'c', { join: [a.ep] });
  const actors = [a, b, c];
  const admin = await StoreClient.connect(a.ep, { retries: 20 });
  t.teardown(() => admin.close());
  await until('all three members see each other', async () => {
    for (const x of actors) if ((await members(admin, x.ep)).members.filter((m) => m.state === 'alive').length !== 3) return false;
    return true;
  }, 10000);

  // Every move that replied OK: (fork, epoch, new owner) must show up in every member's ownership history.
  const made: { fork: string; epoch: number; owner: string }[] = [];

  // Spread the (still empty) forks: every third to b, every third to c.
  const forks = [...admin.map.entries.keys()].sort();
  for (let i = 0; i < forks.length; i++) {
    if (i % 3 === 0) continue;
    const to = i % 3 === 1 ? 'b' : 'c';
    const r = await move(admin, a.ep, forks[i]!, to);
    t.is(r.code, 'OK', r.message);
    if (r.code === 'OK') made.push({ fork: forks[i]!, epoch: r.epoch!, owner: to });
  }

  const lastVersion = new Map<string, number>();
  const expectedCounts = new Array<number>(COUNTERS).fill(0);
  let writing = true;
  const progress = { batches: 0, moves: 0, moveErrors: [] as string[], reads: 0, readMismatches: 0, backAndForth: 0 };

  const writer = async (w: number) => {
    const client = await StoreClient.connect([a.ep, b.ep, c.ep], { retries: 30, producer: `writer-${w}` });
    const mine: number[] = [];
    for (let ctx = w; ctx < CONTEXTS; ctx += WRITERS) mine.push(ctx);
    try {
      for (let i = 0; i < mine.length; i += 8) {
        const ops: ClientOp[] = [];
        const counted: [number, number][] = [];
        const versions: [string, number][] = [];
        for (const ctx of mine.slice(i, i + 8)) {
          for (let j = 0; j < PER_CONTEXT; j++) {
            const k = keyOf(ctx, j);
            ops.push({ op: 'set', key: k, value: Buffer.from(`${ctx}/${j}/1`) });
            versions.push([k.toString('hex'), 1]);
          }
        }
        // Overwrite some keys of earlier contexts, so "last written value" is more than "only written value".
        for (let r = 0; r < 40 && i > 0; r++) {
          const ctx = mine[Math.floor(Math.random() * i)]!;
          const j = Math.floor(Math.random() * PER_CONTEXT);
          const k = keyOf(ctx, j);
          const v = (lastVersion.get(k.toString('hex')) ?? 1) + 1;
          if (versions.some(([h]) => h === k.toString('hex'))) continue;
          ops.push({ op: 'set', key: k, value: Buffer.from(`${ctx}/${j}/${v}`) });
          versions.push([k.toString('hex'), v]);
        }
        for (let r = 0; r < 40; r++) {
          const n = Math.floor(Math.random() * COUNTERS);
          const d = 1 + Math.floor(Math.random() * 3);
          ops.push({ op: 'incr', key: counterKey(n), delta: d });
          counted.push([n, d]);
        }
        await client.batch(ops);
        for (const [h, v] of versions) lastVersion.set(h, v);
        for (const [n, d] of counted) expectedCounts[n]! += d;
        progress.batches++;
      }
    } finally {
      client.close();
    }
  };

  const hot = forks.slice(0, 256).filter((_, i) => i % 37 === 5); // a few forks that move back and forth repeatedly
  const mover = async () => {
    const homes = new Map<string, string[]>();
    while (writing) {
      const fork = Math.random() < 0.5 ? hot[Math.floor(Math.random() * hot.length)]! : forks[Math.floor(Math.random() * forks.length)]!;
      await admin.refreshMap();
      const owner = admin.map.get(fork)!.owner;
      const others = actors.filter((x) => x.id !== owner);
      const to = others[Math.floor(Math.random() * others.length)]!.id;
      const via = actors[Math.floor(Math.random() * 3)]!.ep; // any member forwards to the owner
      const r = await move(admin, via, fork, to);
      if (r.code === 'OK') {
        progress.moves++;
        made.push({ fork, epoch: r.epoch!, owner: to });
        const h = homes.get(fork) ?? [owner];
        h.push(to);
        homes.set(fork, h);
        if (h.length >= 3 && h[h.length - 1] === h[h.length - 3]) progress.backAndForth++;
      } else if (!/already moving|already owns|not a live fork/.test(r.message)) progress.moveErrors.push(`${fork}->${to}: ${r.code} ${r.message}`);
      await sleep(20);
    }
  };

  const reader = async () => {
    const client = await StoreClient.connect(b.ep, { retries: 30 });
    try {
      while (writing) {
        const known = [...lastVersion.entries()];
        if (known.length === 0) {
          await sleep(20);
          continue;
        }
        const sample = Array.from({ length: 200 }, () => known[Math.floor(Math.random() * known.length)]!);
        const got = await client.multiGet(sample.map(([h]) => Buffer.from(h, 'hex')));
        progress.reads += sample.length;
        got.forEach((v, i) => {
          // A read may see a newer, still unacknowledged write, never an older one than the last acknowledged.
          const seen = v instanceof Buffer ? Number(v.toString().split('/')[2]) : 0;
          if (!(seen >= sample[i]![1])) progress.readMismatches++;
        });
      }
    } finally {
      client.close();
    }
  };

  const started = performance.now();
  const movers = [mover(), mover()];
  const readers = [reader(), reader()];
  await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
  writing = false;
  await Promise.all([...movers, ...readers]);
  const writeMs = performance.now() - started;

  t.deepEqual(progress.moveErrors, []);
  t.true(progress.moves >= 10, `only ${progress.moves} moves happened while writing`);
  t.true(progress.backAndForth >= 1, 'no fork moved away and back');
  t.is(progress.readMismatches, 0, 'a read returned an older value than the last acknowledged write');

  // Every key holds its last written value.
  await admin.refreshMap();
  let wrong = 0;
  let missing = 0;
  const all: Buffer[] = [];
  for (let ctx = 0; ctx < CONTEXTS; ctx++) for (let j = 0; j < PER_CONTEXT; j++) all.push(keyOf(ctx, j));
  for (let i = 0; i < all.length; i += 5000) {
    const part = all.slice(i, i + 5000);
    const vals = await admin.multiGet(part);
    vals.forEach((v, n) => {
      const k = part[n]!;
      const want = lastVersion.get(k.toString('hex'));
      if (v === undefined) missing++;
      else if (!(v instanceof Buffer) || Number(v.toString().split('/')[2]) !== want) wrong++;
    });
  }
  t.is(all.length, 200000);
  t.is(missing, 0, 'keys lost');
  t.is(wrong, 0, 'keys not at their last written value');

  // Counter totals are exact: no batch lost, none applied twice.
  const totals = await admin.multiGet(Array.from({ length: COUNTERS }, (_, i) => counterKey(i)));
  const off = totals.map((v, i) => [i, Number(v ?? 0n), expectedCounts[i]!] as const).filter(([, got, want]) => got !== want);
  t.deepEqual(off.slice(0, 5), [], `${off.length} counters off`);

  // Each owner holds exactly its forks' rows: no leftovers of an earlier import, nothing left fenced.
  const stats = await Promise.all(actors.map((x) => admin.call(x.ep, 'stats', {}) as Promise<{ forks: { keys: number; fenced: boolean }[] }>));
  t.is(stats.reduce((n, s) => n + s.forks.reduce((k, f) => k + f.keys, 0), 0), all.length + COUNTERS);
  t.deepEqual(stats.flatMap((s) => s.forks.filter((f) => f.fenced)), []);

  // Every member recorded every move made, and no fork ever had two owners in one epoch across the histories.
  const hs = await Promise.all(actors.map((x) => history(admin, x.ep)));
  const unrecorded = actors.flatMap((x, i) =>
    made.filter((m) => !hs[i]!.some((r) => r.fork === m.fork && r.epoch === m.epoch && r.owner === m.owner)).map((m) => `${x.id} lacks ${m.fork}@${m.epoch}=${m.owner}`),
  );
  t.true(made.length >= 170 + 10, `only ${made.length} moves were made`);
  t.deepEqual(unrecorded.slice(0, 5), [], `${unrecorded.length} moves missing from histories`);
  t.deepEqual(ownershipConflicts(hs), []);

  t.log(`${progress.batches} client batches and ${progress.moves} moves (${progress.backAndForth} back-and-forth) in ${Math.round(writeMs)} ms; ${progress.reads} reads checked`);
});
