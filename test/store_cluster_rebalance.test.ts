// Rebalance and status: the greedy planner and the status lines on views made up here, then `dbslm store rebalance`
// / `status` against real actors.
import test from 'ava';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { StoreClient } from '../store/client/client.js';
import { makeKey } from '../store/protocol/keys.js';
import { planFromView, planRebalance } from '../store/cluster/rebalance/plan.js';
import { deadOwnerNotes, formatStatus } from '../store/cluster/rebalance/status.js';
import type { ClusterView } from '../store/cluster/rebalance/view.js';
import { members, startActor, stateOf, until } from './helpers/cluster_procs.js';

const exec = promisify(execFile);
const run = (file: string, args: string[], opts: { maxBuffer?: number } = {}) => exec(file, args, { timeout: 60000, ...opts });
const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'main.js');

test('the plan moves forks from the heaviest to the lightest member until within tolerance', (t) => {
  const forks = Array.from({ length: 30 }, (_, i) => ({ fork: i.toString(16).padStart(2, '0'), owner: 'a', weight: 10 + (i % 7) }));
  const plan = planRebalance(['a', 'b', 'c'], forks, 0.1);
  const total = forks.reduce((s, f) => s + f.weight, 0);
  t.is(plan.before.a, total);
  for (const m of ['a', 'b', 'c']) t.true(Math.abs(plan.after[m]! - total / 3) <= 0.1 * (total / 3) + 16, `${m}: ${plan.after[m]}`);
  t.is(plan.after.a! + plan.after.b! + plan.after.c!, total);
  t.true(plan.moves.every((m) => m.from === 'a'));
  t.is(new Set(plan.moves.map((m) => m.fork)).size, plan.moves.length, 'a fork planned twice');
});

test('an empty store is balanced by fork counts; a balanced one needs no move', (t) => {
  const forks = Array.from({ length: 256 }, (_, i) => ({ fork: i.toString(16).padStart(2, '0'), owner: 'a', weight: 0 }));
  const plan = planRebalance(['a', 'b', 'c'], forks);
  t.true(plan.after.b! >= 78 && plan.after.c! >= 78, JSON.stringify(plan.after));
  const even = forks.map((f, i) => ({ ...f, owner: ['a', 'b', 'c'][i % 3]!, weight: 5 }));
  t.deepEqual(planRebalance(['a', 'b', 'c'], even).moves, []);
});

/** Members a (alive, owns 00-05 of 100 bytes each), b (alive), c (alive, stats unreadable), d (dead, owns 06). */
function viewOfFour(): ClusterView {
  const forks = Array.from({ length: 6 }, (_, i) => ({ fork: `0${i}`, owner: 'a', epoch: 1 }));
  return {
    via: 'a',
    epoch: 1,
    members: ['a', 'b', 'c', 'd'].map((id, i) => ({ id, endpoint: `tcp://127.0.0.1:500${i}`, incarnation: 0, state: id === 'd' ? 'dead' : 'alive' })),
    forks: [...forks, { fork: '06', owner: 'd', epoch: 1 }],
    loads: forks.map((f) => ({ fork: f.fork, owner: 'a', keys: 10, bytes: 100, opsPerSec: 0, fenced: false })),
    unreachable: ['c'],
  };
}

test('a plan from a view moves forks only between alive members whose figures could be read', (t) => {
  const plan = planFromView(viewOfFour(), 'bytes');
  t.deepEqual(plan.before, { a: 600, b: 0 });
  t.deepEqual(plan.after, { a: 300, b: 300 });
  t.true(plan.moves.every((m) => m.from === 'a' && m.to === 'b' && m.weight === 100));
});

test('status lines show each member with its figures, or that they are unavailable', (t) => {
  const lines = formatStatus(viewOfFour());
  t.is(lines[0], 'map epoch=1 forks=7 (as seen by a)');
  t.is(lines[1], 'member a tcp://127.0.0.1:5000 state=alive incarnation=0 forks=6 keys=60 bytes=600 ops/s=0');
  t.is(lines.filter((l) => l.startsWith('  fork=0')).length, 6);
  t.true(lines.includes('member c tcp://127.0.0.1:5002 state=alive incarnation=0 forks=0 figures=unavailable'));
  t.true(lines.includes('member d tcp://127.0.0.1:5003 state=dead incarnation=0 forks=1 figures=unavailable'));
});

test('status and rebalance say that a dead member\'s forks cannot move and name the takeover', (t) => {
  const lines = formatStatus(viewOfFour());
  const note = lines.find((l) => l.startsWith('member d is dead'));
  t.truthy(note, lines.join('\n'));
  t.regex(note!, /owns 1 fork:/);
  t.regex(note!, /`dbslm store takeover d --connect tcp:\/\/127\.0\.0\.1:5000`/);
  t.deepEqual(deadOwnerNotes({ ...viewOfFour(), forks: viewOfFour().forks.filter((f) => f.owner !== 'd') }), [], 'a dead member without forks needs no takeover');
});

test('status warns that a cluster of several members keeps each fork on one member (no replicas), and a single member is not warned', (t) => {
  t.regex(formatStatus(viewOfFour()).at(-1)!, /^warning: replication factor 1: each fork is kept by its owner alone/);
  const alone = { ...viewOfFour(), members: viewOfFour().members.filter((m) => m.id === 'a') };
  t.false(formatStatus(alone).some((l) => l.startsWith('warning: replication factor')), formatStatus(alone).join('\n'));
});

test('status shows per fork the replicas, the in-sync set and each replica\'s lag, and does not warn a replicated cluster', (t) => {
  const view = viewOfFour();
  view.forks[0] = { ...view.forks[0]!, replicas: ['b', 'c'], inSync: ['b'], epoch: 2, term: 1 };
  view.forks[5] = { ...view.forks[5]!, replicas: ['b'], inSync: ['b'], epoch: 2, term: 1 };
  view.lags = [
    { fork: '00', replica: 'b', behind: 0, state: 'in-sync' },
    { fork: '00', replica: 'c', behind: 12, state: 'out' },
    { fork: '05', replica: 'b', behind: 1, state: 'in-sync' },
  ];
  const lines = formatStatus(view);
  t.is(lines[1], 'member a tcp://127.0.0.1:5000 state=alive incarnation=0 forks=6 keys=60 bytes=600 ops/s=0 replicated=2 not-all-in-sync=1');
  t.true(lines.includes('  fork=00 keys=10 bytes=100 ops/s=0 replicas=b,c in-sync=b lag=b:0,c:12(out)'), lines.join('\n'));
  t.true(lines.includes('  fork=05 keys=10 bytes=100 ops/s=0 replicas=b in-sync=b lag=b:1'), lines.join('\n'));
  t.false(lines.some((l) => l.startsWith('warning: replication factor')));
});

test('store rebalance prints a plan, --apply runs it live, and status shows members, forks and epoch', async (t) => {
  t.timeout(120000);
  const a = await startActor(t, 'a');
  const b = await startActor(t, 'b', { join: [a.ep] });
  const c = await startActor(t, 'c', { join: [a.ep] });
  const client = await StoreClient.connect(a.ep, { retries: 20 });
  t.teardown(() => client.close());
  await until('all members alive at a', async () => {
    const v = await members(client, a.ep);
    return stateOf(v, 'b') === 'alive' && stateOf(v, 'c') === 'alive';
  }, 10000);
  const keys = Array.from({ length: 20000 }, (_, i) => makeKey('rb', Buffer.from(`ctx${i % 2000}`), Buffer.from(`k${i}`)));
  for (let i = 0; i < keys.length; i += 2000) await client.batch(keys.slice(i, i + 2000).map((key, j) => ({ op: 'set' as const, key, value: Buffer.from(`v${i + j}`) })));

  const dry = await run(process.execPath, [cli, 'store', 'rebalance', '--connect', a.ep, '--by', 'bytes']);
  const planned = dry.stdout.split('\n').filter((l) => l.startsWith('move fork='));
  t.true(planned.length > 100, dry.stdout.slice(0, 500));
  await client.refreshMap();
  t.is(client.map.forksOf('a').length, 256, 'a plan without --apply moved something');

  const applied = await run(process.execPath, [cli, 'store', 'rebalance', '--connect', b.ep, '--by', 'bytes', '--apply'], { maxBuffer: 1 << 24 });
  const done = applied.stdout.split('\n').filter((l) => /^\[\d+\/\d+\] fork=\w+ a -> [bc] epoch=\d+/.test(l));
  t.is(done.length, planned.length, applied.stdout.slice(-500));

  const st = await run(process.execPath, [cli, 'store', 'status', '--connect', c.ep, '--json']);
  const status = JSON.parse(st.stdout) as { epoch: number; members: { id: string; state: string; incarnation: number; endpoint: string; owned: number; forks: { bytes: number; keys: number }[] }[] };
  t.true(status.epoch > 1);
  t.deepEqual(status.members.map((m) => `${m.id}:${m.state}`).sort(), ['a:alive', 'b:alive', 'c:alive']);
  t.true(status.members.every((m) => m.incarnation >= 0 && m.endpoint.startsWith('tcp://127.0.0.1:')));
  const bytes = status.members.map((m) => m.forks.reduce((s, f) => s + f.bytes, 0));
  const mean = bytes.reduce((x, y) => x + y, 0) / 3;
  t.true(bytes.every((x) => Math.abs(x - mean) <= 0.15 * mean), `bytes per member after rebalance: ${bytes.join(', ')}`);
  t.is(status.members.reduce((s, m) => s + m.forks.reduce((k, f) => k + f.keys, 0), 0), keys.length);

  const text = await run(process.execPath, [cli, 'store', 'status', '--connect', a.ep]);
  t.regex(text.stdout, /^map epoch=\d+ forks=256/m);
  t.regex(text.stdout, /^member b tcp:\/\/127\.0\.0\.1:\d+ state=alive incarnation=\d+ forks=\d+ keys=\d+ bytes=\d+ ops\/s=\d+/m);

  // `store move` through a member that does not own the fork: it forwards to the owner.
  await client.refreshMap();
  const fork = client.locate(keys[0]!).fork;
  const owner = client.map.get(fork)!.owner;
  const to = owner === 'c' ? 'b' : 'c';
  const via = [a, b, c].find((x) => x.id !== owner && x.id !== to)!;
  const mv = await run(process.execPath, [cli, 'store', 'move', '--fork', fork, '--to', to, '--connect', via.ep]);
  t.regex(mv.stdout, new RegExp(`^moved fork=${fork} from=${owner} to=${to} epoch=\\d+ keys=\\d+ rounds=\\d+ ms=\\d+$`, 'm'));
  const loc = await run(process.execPath, [cli, 'store', 'locate', 'rb:ctx0|k0', '--connect', a.ep]);
  t.is(loc.stdout.trim(), `fork=${fork} owner=${to}`);

  await client.refreshMap();
  const vals = await client.multiGet(keys);
  t.is(vals.filter((v, i) => !(v instanceof Buffer) || v.toString() !== `v${i}`).length, 0);
});

test('a fork of large values moves in frames under the 64 MiB limit', async (t) => {
  t.timeout(120000);
  const a = await startActor(t, 'a');
  await startActor(t, 'b', { join: [a.ep] }); // the move's target
  const client = await StoreClient.connect(a.ep, { retries: 20, timeoutMs: 30000 });
  t.teardown(() => client.close());
  await until('b alive at a', async () => stateOf(await members(client, a.ep), 'b') === 'alive', 10000);
  // Six 12 MiB values under one routing prefix: 72 MiB in one fork, more than one frame may carry.
  const keys = Array.from({ length: 6 }, (_, i) => makeKey('big', Buffer.from('one-context'), Buffer.from(`v${i}`)));
  for (const [i, key] of keys.entries()) await client.set(key, Buffer.alloc(12 * 1024 * 1024, 65 + i));
  const fork = client.locate(keys[0]!).fork;
  const mv = await run(process.execPath, [cli, 'store', 'move', '--fork', fork, '--to', 'b', '--connect', a.ep]);
  t.regex(mv.stdout, /keys=6 /);
  await client.refreshMap();
  t.is(client.map.get(fork)?.owner, 'b');
  for (const [i, key] of keys.entries()) {
    const v = await client.get(key);
    t.true(v instanceof Buffer && v.length === 12 * 1024 * 1024 && v[0] === 65 + i && v[v.length - 1] === 65 + i, `value ${i}`);
  }
});

/** Replays a plan on the forks, checking each move is one the store carries out, and never two copies on one member. */
function replay(t: import('ava').ExecutionContext, forks: { fork: string; owner: string; replicas: string[]; inSync: string[] }[], moves: import('../store/cluster/rebalance/plan.js').Move[]) {
  const byFork = new Map(forks.map((f) => [f.fork, { ...f, replicas: [...f.replicas], inSync: [...f.inSync] }]));
  for (const m of moves) {
    const f = byFork.get(m.fork)!;
    const holds = (id: string) => f.owner === id || f.replicas.includes(id);
    if (m.kind === 'handover') {
      t.true(f.owner === m.from && f.inSync.includes(m.to), `handover of ${m.fork} to ${m.to}, not an in-sync replica`);
      f.owner = m.to;
      f.replicas = f.replicas.map((id) => (id === m.to ? m.from : id));
      f.inSync = f.inSync.map((id) => (id === m.to ? m.from : id));
    } else if (m.kind === 'replica') {
      t.true(f.replicas.includes(m.from) && !holds(m.to), `replica move of ${m.fork} ${m.from} -> ${m.to}`);
      f.replicas = f.replicas.map((id) => (id === m.from ? m.to : id));
      f.inSync = f.inSync.map((id) => (id === m.from ? m.to : id));
    } else {
      t.true(f.owner === m.from && !f.replicas.length && !holds(m.to), `live move of ${m.fork} ${m.from} -> ${m.to}`);
      f.owner = m.to;
    }
    t.is(new Set([f.owner, ...f.replicas]).size, 1 + f.replicas.length, `two copies of ${m.fork} on one member`);
  }
  return [...byFork.values()];
}

test('with replicas the plan hands forks to in-sync replicas, moves replicas, and never puts two copies on one member', (t) => {
  // a owns 24 forks of weight 10, each with its in-sync replica on b (R = 2); c and d hold nothing.
  const forks = Array.from({ length: 24 }, (_, i) => ({ fork: i.toString(16).padStart(2, '0'), owner: 'a', weight: 10, replicas: ['b'], inSync: ['b'] }));
  const plan = planRebalance(['a', 'b', 'c', 'd'], forks, 0);
  t.deepEqual(plan.before, { a: 240, b: 240, c: 0, d: 0 });
  t.deepEqual(plan.owned.before, { a: 240, b: 0, c: 0, d: 0 });
  t.deepEqual(plan.after, { a: 120, b: 120, c: 120, d: 120 }, 'copies even');
  t.deepEqual(plan.owned.after, { a: 60, b: 60, c: 60, d: 60 }, 'owners even');
  t.is(plan.moves.filter((m) => m.kind === 'move').length, 0, 'no live move of a replicated fork');
  t.is(plan.moves[0]!.kind, 'handover', 'handovers first: nothing is copied');
  const after = replay(t, forks, plan.moves);
  const copies = (id: string) => after.filter((f) => f.owner === id || f.replicas.includes(id)).length;
  t.deepEqual(['a', 'b', 'c', 'd'].map(copies), [12, 12, 12, 12]);
  t.is(plan.moves.filter((m) => m.kind === 'replica').length, 24, 'each copy c and d hold came by one replica move');
});

test('a plan from a view weighs each fork by its owner\'s figures and plans over its replicas', (t) => {
  const view = viewOfFour();
  view.unreachable = [];
  view.members = view.members.filter((m) => m.id !== 'd');
  view.forks = view.forks.filter((f) => f.owner === 'a').map((f) => ({ ...f, replicas: ['b'], inSync: ['b'] }));
  // b reports its replica copies too: they must not count as the owner's figures.
  view.loads.push(...view.forks.map((f) => ({ fork: f.fork, owner: 'b', keys: 10, bytes: 999, opsPerSec: 0, fenced: false })));
  const plan = planFromView(view, 'bytes');
  t.deepEqual(plan.before, { a: 600, b: 600, c: 0 });
  replay(t, view.forks.map((f) => ({ fork: f.fork, owner: f.owner, replicas: f.replicas!, inSync: f.inSync! })), plan.moves);
  t.true(plan.moves.some((m) => m.kind === 'replica' && m.to === 'c'), JSON.stringify(plan.moves));
});
