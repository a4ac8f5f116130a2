// The change log of watched forks (what a live fork move forwards as its tail): on its own, and
// through a StoreActor in this process, where only committed changes of requests that succeeded
// reach the watcher.
import test from 'ava';
import type { ForkChunk } from '../schemas/fork_chunk.js';
import { OP_INCR, OP_SET } from '../schemas/data.js';
import { STORE_COMMANDS } from '../schemas/store.js';
import { ChangeLog } from '../store/actor/change_log.js';
import { makeKey } from '../store/protocol/keys.js';
import { RawPeer, startActor } from './helpers/actor_in_process.js';

const C = STORE_COMMANDS;
const EMPTY = Buffer.alloc(0);
const k = (n: number) => Buffer.from([0xab, 0, 0, 0, n]);
/** Each noted row as [key byte, kind, data]. */
const rows = (chunks: ForkChunk[]) => chunks.flatMap((c) => c.entries.map((e) => [e.key.at(-1), e.kind, e.data.toString('hex')]));

test('only watched forks are noted; a commit hands the notes to every watcher of the fork, a rollback drops them', (t) => {
  const log = new ChangeLog();
  const seen: ForkChunk[] = [];
  const alsoSeen: ForkChunk[] = [];
  const unwatch = log.watch('ab', (c) => seen.push(c));
  log.watch('ab', (c) => alsoSeen.push(c));
  t.true(log.isWatched('ab'));
  t.false(log.isWatched('cd'));

  log.note('ab', k(1), Buffer.from('v'));
  log.note('ab', k(2), undefined);
  log.note('ab', k(3), 5n);
  log.note('cd', k(4), Buffer.from('not watched'));
  log.noteDedup('ab', 'p', 9, k(0).subarray(0, 4));
  log.noteDedup('cd', 'p', 10, k(0).subarray(0, 4));
  t.deepEqual(seen, [], 'nothing before the commit');
  log.publish(true);
  t.deepEqual(rows(seen), [[1, 1, '76'], [2, 0, ''], [3, 2, '0500000000000000']]);
  t.deepEqual(seen.flatMap((c) => c.dedup.map((d) => `${d.producer}/${d.seq}`)), ['p/9']);
  t.deepEqual(seen.map((c) => c.fork), ['ab']);
  t.deepEqual(rows(alsoSeen), rows(seen));

  log.note('ab', k(5), Buffer.from('rolled back'));
  log.publish(false);
  log.publish(true);
  t.is(rows(seen).length, 3, 'a failed transaction hands nothing over, and its notes are gone');

  unwatch();
  log.note('ab', k(6), Buffer.from('one watcher left'));
  log.publish(true);
  t.is(rows(seen).length, 3);
  t.is(rows(alsoSeen).length, 4);
});

test('mark and rollback drop exactly what a failing request noted after the mark', (t) => {
  const log = new ChangeLog();
  const seen: ForkChunk[] = [];
  log.watch('ab', (c) => seen.push(c));
  log.watch('cd', (c) => seen.push(c));
  log.note('ab', k(1), Buffer.from('kept'));
  const mark = log.mark();
  log.note('ab', k(2), Buffer.from('dropped'));
  log.note('cd', k(3), Buffer.from('dropped, in a fork first noted after the mark'));
  log.noteDedup('ab', 'p', 1, k(0).subarray(0, 4));
  log.rollback(mark);
  log.note('ab', k(4), Buffer.from('kept'));
  log.publish(true);
  t.deepEqual(rows(seen).map((r) => r[0]), [1, 4]);
  t.deepEqual(seen.flatMap((c) => c.dedup), []);
});

test('through the actor: a watcher gets the committed changes of the requests that succeeded, batches with totals and dedup records', async (t) => {
  const actor = await startActor(t);
  const peer = new RawPeer(t, actor.endpoint);
  const key = (rest: string) => makeKey('w', Buffer.from('ctx'), Buffer.from(rest));
  const fork = actor.map.lookup(key('a')).fork;
  const seen: ForkChunk[] = [];
  actor.watchFork(fork, (c) => seen.push(c));
  t.true(actor.isWatched(fork));
  const replies = await peer.bundle([
    { cmd: 'set', body: C.set.encodeRequest({ entries: [{ key: key('a'), value: Buffer.from('1') }] }) },
    { cmd: 'incr', body: C.incr.encodeRequest({ entries: [{ key: key('n'), delta: 4 }, { key: key('a'), delta: 1 }] }) },
    { cmd: 'batch', body: C.batch.encodeRequest({ producer: 'p', seq: 1, floor: 0, ops: [{ op: OP_INCR, key: key('n'), value: EMPTY, delta: 2 }, { op: OP_SET, key: key('s'), value: Buffer.from('2'), delta: 0 }], incrs: EMPTY }) },
    { cmd: 'batch', body: C.batch.encodeRequest({ producer: 'p', seq: 2, floor: 0, ops: [{ op: OP_INCR, key: key('n'), value: EMPTY, delta: 3 }], incrs: EMPTY }) },
  ]);
  t.deepEqual(replies.map((r) => r.code), ['OK', 'WRONG_TYPE', 'OK', 'OK']);
  const noted = seen.flatMap((c) => c.entries.map((e) => [e.key.subarray(-1).toString(), e.kind === 2 ? e.data.readBigInt64LE(0) : e.data.toString()]));
  t.deepEqual(noted, [['a', '1'], ['n', 2n], ['s', '2'], ['n', 5n]], 'the failed incr noted nothing; increments of a watched fork carry their totals');
  t.deepEqual(seen.flatMap((c) => c.dedup.map((d) => d.seq)), [1, 2]);
});

test('a watcher taking deltas gets queued increments as summed deltas (totals while another wants them); imported in order, they give the same rows', async (t) => {
  const owner = await startActor(t);
  const replica = await startActor(t, { id: 'b' });
  const peer = new RawPeer(t, owner.endpoint);
  const key = (rest: string) => makeKey('w', Buffer.from('ctx'), Buffer.from(rest));
  const fork = owner.map.lookup(key('n')).fork;
  const seen: ForkChunk[] = [];
  owner.watchFork(fork, (c) => seen.push(c), false);
  const incrs = (seq: number, ...deltas: [string, number][]) => ({
    cmd: 'batch',
    body: C.batch.encodeRequest({ producer: 'p', seq, floor: 0, ops: deltas.map(([k, delta]) => ({ op: OP_INCR, key: key(k), value: EMPTY, delta })), incrs: EMPTY }),
  });
  // One group: the two batches of increments are queued and applied together, n summed.
  t.deepEqual((await peer.bundle([incrs(1, ['n', 2], ['m', 1]), incrs(2, ['n', 3])])).map((r) => r.code), ['OK', 'OK']);
  const unwatchTotals = owner.watchFork(fork, () => {});
  t.is((await peer.request(incrs(3, ['n', 300], ['m', -1]))).code, 'OK');
  unwatchTotals();
  t.is((await peer.request(incrs(4, ['n', 1000]))).code, 'OK');
  const noted = seen.map((c) => c.entries.map((e) => [e.key.subarray(-1).toString(), e.kind, e.data.readBigInt64LE(0)]));
  t.deepEqual(noted, [
    [['m', 3, 1n], ['n', 3, 5n]],
    [['m', 2, 0n], ['n', 2, 305n]],
    [['n', 3, 1000n]],
  ], 'deltas (kind 3), summed per key and in key order; final values (kind 2) while a watcher wants them');
  for (const chunk of seen) await replica.importChunk(chunk);
  const rowsOf = (a: typeof owner) => a.db.scan(Buffer.from(fork, 'hex'), null, 100).map((r) => [r.key.toString('hex'), r.value]);
  t.deepEqual(rowsOf(replica), rowsOf(owner));
  t.deepEqual(rowsOf(owner).map((r) => r[1]), [0n, 1305n]);
  t.deepEqual(seen.flatMap((c) => c.dedup.map((d) => d.seq)), [1, 2, 3, 4]);
});
