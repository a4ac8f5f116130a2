// Command semantics of one real actor process on loopback, through the client library.
import test from 'ava';
import { STORE_COMMANDS } from '../schemas/store.js';
import { StoreClient, StoreReplyError } from '../store/client/client.js';
import { ForkMap } from '../store/map/fork_map.js';
import { makeKey, rangePrefix, textKey } from '../store/protocol/keys.js';
import { CocArgs, CocResult, FollowerStatsResult, SumResult, type CocValue, type ContextStats, type SumValue } from '../store/actor/reducers.js';
import { killed, spawnActor } from './helpers/store_procs.js';
import { tempDir } from './helpers/temp_dir.js';

const k = (s: string) => textKey(s);

test('get/set/delete/incr/batch/scan/reduce/summary/purge/reset/stop', async (t) => {
  const a = await spawnActor(t, 'a');
  const c = await StoreClient.connect(a.ep, { timeoutMs: 5000 });
  t.teardown(() => c.close());

  await c.set(k('t:x|1'), Buffer.from('one'));
  t.deepEqual(await c.get(k('t:x|1')), Buffer.from('one'));
  t.is(await c.get(k('t:x|nope')), undefined);
  await c.multiSet([{ key: k('t:x|1'), value: Buffer.from('uno') }, { key: k('t:y|1'), value: Buffer.alloc(0) }]);
  t.deepEqual(await c.multiGet([k('t:x|1'), k('t:y|1'), k('t:z')]), [Buffer.from('uno'), Buffer.alloc(0), undefined]);
  t.is(await c.delete([k('t:x|1'), k('t:x|1')]), 1);
  t.is(await c.get(k('t:x|1')), undefined);

  t.is(await c.incr(k('n:a|b'), 5), 5);
  t.deepEqual(await c.multiIncr([{ key: k('n:a|b'), delta: -7 }, { key: k('n:a|c'), delta: 2 }]), [-2, 2]);
  t.is(await c.get(k('n:a|b')), -2n);
  await c.set(k('n:a|bytes'), Buffer.from('x'));
  const wrong = await t.throwsAsync(c.incr(k('n:a|bytes'), 1), { instanceOf: StoreReplyError });
  t.is(wrong?.code, 'WRONG_TYPE');
  // A failed multi-key write applies nothing.
  const multiWrong = await t.throwsAsync(c.multiIncr([{ key: k('n:a|c'), delta: 100 }, { key: k('n:a|bytes'), delta: 1 }]), { instanceOf: StoreReplyError });
  t.is(multiWrong?.code, 'WRONG_TYPE');
  t.is(await c.get(k('n:a|c')), 2n);

  // Batches: atomic within a fork and applied once per (producer, seq).
  const ctx = Buffer.from('ctx');
  const body = STORE_COMMANDS.batch.encodeRequest({ producer: 'p1', seq: 7, floor: 0, ops: [
    { op: 2, key: makeKey('n', ctx, Buffer.from('a')), value: Buffer.alloc(0), delta: 3 },
    { op: 0, key: makeKey('n', ctx, Buffer.from('s')), value: Buffer.from('v'), delta: 0 },
  ], incrs: Buffer.alloc(0) });
  const r1 = await c.raw(a.ep, 'batch', body);
  const r2 = await c.raw(a.ep, 'batch', body);
  t.is(r1.code, 'OK');
  t.false((STORE_COMMANDS.batch.decodeReply(r1.body) as { duplicate: boolean }).duplicate);
  t.true((STORE_COMMANDS.batch.decodeReply(r2.body) as { duplicate: boolean }).duplicate);
  t.is(await c.get(makeKey('n', ctx, Buffer.from('a'))), 3n);
  const bad = await c.raw(a.ep, 'batch', STORE_COMMANDS.batch.encodeRequest({ producer: 'p1', seq: 8, floor: 0, ops: [
    { op: 2, key: makeKey('n', ctx, Buffer.from('a')), value: Buffer.alloc(0), delta: 1 },
    { op: 2, key: makeKey('n', ctx, Buffer.from('s')), value: Buffer.alloc(0), delta: 1 },
  ], incrs: Buffer.alloc(0) }));
  t.is(bad.code, 'WRONG_TYPE');
  t.is(await c.get(makeKey('n', ctx, Buffer.from('a'))), 3n, 'a failing batch rolls back entirely');
  const twoForks = [0, 1, 2, 3, 4, 5].map((i) => makeKey('n', Buffer.from(`c${i}`), Buffer.from('w')));
  const cross = await c.raw(a.ep, 'batch', STORE_COMMANDS.batch.encodeRequest({ producer: 'p1', seq: 9, floor: 0, ops: twoForks.map((key) => ({ op: 2, key, value: Buffer.alloc(0), delta: 1 })), incrs: Buffer.alloc(0) }));
  t.is(cross.code, 'CROSS_FORK');
  await c.batch(twoForks.map((key) => ({ op: 'incr' as const, key, delta: 4 })));
  t.deepEqual(await c.multiGet(twoForks), twoForks.map(() => 4n));

  // Scan: ordered, paged by cursor, limited to one routing prefix.
  const words = Array.from({ length: 250 }, (_, i) => `w${String(i).padStart(3, '0')}`);
  await c.batch(words.map((w, i) => ({ op: 'incr' as const, key: makeKey('s', Buffer.from('the'), Buffer.from(w)), delta: (i % 4) + 1 })));
  await c.set(makeKey('s', Buffer.from('thee'), Buffer.from('x')), Buffer.from('other context'));
  const seen: string[] = [];
  for await (const r of c.scan(rangePrefix('s', Buffer.from('the')), { pageSize: 64 })) seen.push(r.key.subarray(-4).toString());
  t.deepEqual(seen, words);
  const page = STORE_COMMANDS.scan.decodeReply((await c.raw(a.ep, 'scan', STORE_COMMANDS.scan.encodeRequest({ prefix: rangePrefix('s', Buffer.from('the')), after: null, limit: 10, keysOnly: true }))).body) as { keys: Buffer[]; next: Buffer | null };
  t.is(page.keys.length, 10);
  t.deepEqual(page.next, page.keys[9]);
  const wide = await c.raw(a.ep, 'scan', STORE_COMMANDS.scan.encodeRequest({ prefix: Buffer.alloc(0), after: null, limit: 10, keysOnly: true }));
  t.is(wide.code, 'CROSS_FORK');

  // Reducers run where the counts are.
  const ctxPrefix = rangePrefix('s', Buffer.from('the'));
  const coc = CocResult.fromBuffer(await c.reduce('counts-of-counts', ctxPrefix, CocArgs.toBuffer({ max: 3 }))) as CocValue;
  t.deepEqual({ ...coc }, { counts: [63, 63, 62], above: 62 });
  const sum = SumResult.fromBuffer(await c.reduce('sum', ctxPrefix)) as SumValue;
  t.is(sum.sum, String(words.reduce((s, _, i) => s + (i % 4) + 1, 0)));
  const fs = (FollowerStatsResult.fromBuffer(await c.reduce('follower-stats', ctxPrefix)) as { contexts: ContextStats[] }).contexts;
  t.is(fs.length, 1);
  t.like(fs[0], { ns: 's', followers: 250, n1: 63, n2: 63, n3plus: 124 });
  const cocAll = CocResult.fromBuffer(await c.reduceAll('counts-of-counts', CocArgs.toBuffer({ max: 3 }))) as CocValue;
  t.true(cocAll.counts[0]! >= 63 && cocAll.above >= 62);

  // Summary and purge.
  const sumRep = await c.call(a.ep, 'summary', { prefix: ctxPrefix, depth: 2 }) as { entries: number; branches: { entries: number }[] };
  t.is(sumRep.entries, 250);
  t.is(sumRep.branches.length, 3); // 'w0', 'w1', 'w2'
  t.is(sumRep.branches.reduce((s, b) => s + b.entries, 0), 250);
  t.is((await c.call(a.ep, 'purge', { prefix: ctxPrefix }) as { count: number }).count, 250);
  t.is(await c.get(makeKey('s', Buffer.from('the'), Buffer.from('w001'))), undefined);
  t.deepEqual(await c.get(makeKey('s', Buffer.from('thee'), Buffer.from('x'))), Buffer.from('other context'));

  const cp = await c.call(a.ep, 'checkpoint', {}) as { busy: number };
  t.is(cp.busy, 0);
  const st = await c.call(a.ep, 'stats', {}) as { id: string; forks: { keys: number }[] };
  t.is(st.id, 'a');
  t.is(st.forks.length, 256);
  t.true((await c.call(a.ep, 'reset', {}) as { count: number }).count > 0);
  t.is((await c.call(a.ep, 'summary', { prefix: Buffer.alloc(0), depth: 0 }) as { entries: number }).entries, 0);

  await c.call(a.ep, 'stop', {});
  await killed(a.proc);
  t.is(a.proc.exitCode, 0);
});

test('a fork owned elsewhere gets a MOVED redirect with owner, endpoint and epoch; writes survive a restart', async (t) => {
  const a = await spawnActor(t, 'a');
  const c = await StoreClient.connect(a.ep, { timeoutMs: 5000 });
  t.teardown(() => c.close());
  const key = k('m:hello|world');
  const fork = c.locate(key).fork;
  await c.set(key, Buffer.from('kept'));
  const map = c.map.assign(fork, 'b');
  await c.call(a.ep, 'map-apply', { map: map.toJSON(), members: [{ id: 'b', endpoint: 'tcp://127.0.0.1:1' }] });
  const rep = await c.raw(a.ep, 'get', STORE_COMMANDS.get.encodeRequest({ keys: [key] }));
  t.is(rep.code, 'MOVED');
  t.deepEqual({ ...rep.redirect }, { fork, owner: 'b', endpoint: 'tcp://127.0.0.1:1', epoch: 2 });
  const w = await c.raw(a.ep, 'set', STORE_COMMANDS.set.encodeRequest({ entries: [{ key, value: Buffer.from('no') }] }));
  t.is(w.code, 'MOVED');
  // The map is persisted: a restarted actor still refuses the fork, and kept its data.
  a.proc.kill('SIGTERM');
  await killed(a.proc);
  const a2 = await spawnActor(t, 'a', { dir: a.dir });
  const c2 = await StoreClient.connect(a2.ep, { timeoutMs: 5000 });
  t.teardown(() => c2.close());
  t.is(c2.map.get(fork)!.owner, 'b');
  t.is(c2.map.version, 2);
  await c2.call(a2.ep, 'map-apply', { map: ForkMap.fromEntries([...c2.map.entries.values()].map((e) => (e.fork === fork ? { ...e, owner: 'a', epoch: 3 } : e))).toJSON(), members: [] });
  await c2.refreshMap();
  t.deepEqual(await c2.get(key), Buffer.from('kept'));
  const unknown = await c2.raw(a2.ep, 'frobnicate', Buffer.alloc(0));
  t.is(unknown.code, 'UNKNOWN_COMMAND');
});

test('--plugin loads model code that registers a reducer into the actor', async (t) => {
  const { default: fs } = await import('node:fs');
  const { default: path } = await import('node:path');
  const { fileURLToPath, pathToFileURL } = await import('node:url');
  const reducers = pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'store', 'actor', 'reducers.js')).href;
  const dir = tempDir('dbslm-');
  const plugin = path.join(dir, 'max_reducer.mjs');
  fs.writeFileSync(
    plugin,
    `import { registerReducer } from ${JSON.stringify(reducers)};
registerReducer('max', {
  run(rows) { let m = 0n; for (const r of rows) if (typeof r.value === 'bigint' && r.value > m) m = r.value; return Buffer.from(m.toString()); },
  combine(parts) { return Buffer.from(parts.map((p) => BigInt(p.toString())).reduce((a, b) => (a > b ? a : b), 0n).toString()); },
});
`,
  );
  const a = await spawnActor(t, 'a', { extra: ['--plugin', plugin] });
  const c = await StoreClient.connect(a.ep, { timeoutMs: 5000 });
  t.teardown(() => c.close());
  await c.batch([3, 41, 7].map((d, i) => ({ op: 'incr' as const, key: makeKey('p', Buffer.from('ctx'), Buffer.from([i])), delta: d })));
  t.is((await c.reduce('max', rangePrefix('p', Buffer.from('ctx')))).toString(), '41');
  t.is((await c.raw(a.ep, 'reduce', STORE_COMMANDS.reduce.encodeRequest({ name: 'min', prefix: Buffer.alloc(0), args: Buffer.alloc(0) }))).code, 'UNKNOWN_COMMAND');
});

test('increment batches queued in one group commit: a bad one fails alone, a redelivered one counts once', async (t) => {
  const a = await spawnActor(t, 'a');
  const c = await StoreClient.connect(a.ep, { timeoutMs: 5000 });
  t.teardown(() => c.close());
  const key = (r: string) => makeKey('q', Buffer.from('ctx'), Buffer.from(r));
  await c.set(key('bytes'), Buffer.from('not a counter'));
  const batch = (seq: number, ops: [string, number][]) =>
    STORE_COMMANDS.batch.encodeRequest({ producer: 'q', seq, floor: 0, ops: ops.map(([r, delta]) => ({ op: 2, key: key(r), value: Buffer.alloc(0), delta })), incrs: Buffer.alloc(0) });
  // Sent without awaiting in between: they leave in one bundle and land in one transaction.
  const reps = await Promise.all([
    c.raw(a.ep, 'batch', batch(1, [['k1', 1], ['k2', 1]])),
    c.raw(a.ep, 'batch', batch(2, [['k1', 5], ['bytes', 1]])),
    c.raw(a.ep, 'batch', batch(3, [['k2', 10], ['k3', 2], ['k3', 2]])),
    c.raw(a.ep, 'batch', batch(1, [['k1', 1], ['k2', 1]])),
    c.raw(a.ep, 'get', STORE_COMMANDS.get.encodeRequest({ keys: [key('k2')] })),
  ]);
  t.deepEqual(reps.map((r) => r.code), ['OK', 'WRONG_TYPE', 'OK', 'OK', 'OK']);
  t.deepEqual(reps.filter((r) => r.code === 'OK' && r.body.length === 1).map((r) => (STORE_COMMANDS.batch.decodeReply(r.body) as { duplicate: boolean }).duplicate), [false, false, true]);
  const seen = STORE_COMMANDS.get.decodeReply(reps[4]!.body) as { values: { kind: number; data: Buffer }[] };
  t.is(seen.values[0]!.data.readBigInt64LE(0), 11n, 'a read after queued increments sees them');
  t.deepEqual(await c.multiGet([key('k1'), key('k2'), key('k3'), key('bytes')]), [1n, 11n, 4n, Buffer.from('not a counter')]);
  // The failed batch was not recorded: once fixed, the same seq applies.
  await c.delete([key('bytes')]);
  t.is((await c.raw(a.ep, 'batch', batch(2, [['k1', 5], ['bytes', 1]]))).code, 'OK');
  t.deepEqual(await c.multiGet([key('k1'), key('bytes')]), [6n, 1n]);
});
