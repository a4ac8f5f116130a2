// The increment queue on a real ForkDb in a temp dir: queued batches are applied as one sorted,
// summed UPSERT run with every dedup record; marks as one sorted, deduplicated run that never
// overwrites; a batch that cannot apply fails alone; a key both marked and increased falls back to
// arrival order; a batch redelivered while queued shares the first copy's outcome; a watched
// fork's batches take the same runs and note every total, created mark and dedup record.
import test from 'ava';
import { ChangeLog } from '../store/actor/change_log.js';
import { ForkDb, TypeMismatch } from '../store/actor/fork_db.js';
import { IncrQueue, type QueuedBatch } from '../store/actor/incr_queue.js';
import { wireToStored } from '../store/protocol/values.js';
import type { ForkChunk } from '../schemas/fork_chunk.js';
import { tmpDir } from './helpers/store_procs.js';

/** A real ForkDb that also records the rows of every multi-row increment it runs. */
class RecordingDb extends ForkDb {
  readonly incrManyCalls: { keys: string[]; deltas: number[] }[] = [];
  readonly markManyCalls: string[][] = [];
  override incrMany(keys: Buffer[], deltas: number[], onTotal?: (key: Buffer, total: bigint) => void): boolean {
    this.incrManyCalls.push({ keys: keys.map((k) => k.toString('latin1')), deltas: [...deltas] });
    return super.incrMany(keys, deltas, onTotal);
  }
  override markMany(keys: Buffer[], onCreated?: (key: Buffer) => void): void {
    this.markManyCalls.push(keys.map((k) => k.toString('latin1')));
    super.markMany(keys, onCreated);
  }
}

const anchor = Buffer.from([1, 2, 3, 4]);
const FORK = '01020304';
const k = (name: string) => Buffer.concat([anchor, Buffer.from(name)]);

function queued(seq: number, rows: [string, number][], outcomes: unknown[][], marks: string[] = []): QueuedBatch {
  const outcome: unknown[] = [];
  outcomes[seq] = outcome;
  return { producer: 'p', seq, fork: FORK, anchor, keys: rows.map(([name]) => k(name)), deltas: rows.map(([, d]) => d), marks: marks.map(k), done: [(err) => outcome.push(err)] };
}

function open(t: { teardown: (fn: () => void) => void }): RecordingDb {
  const db = new RecordingDb(tmpDir(), 'normal');
  t.teardown(() => db.close());
  db.begin();
  return db;
}

test('a flush sums the deltas per key, applies them in key order in one run, records every batch, reports each applied', (t) => {
  const db = open(t);
  const queue = new IncrQueue(db, new ChangeLog());
  const outcomes: unknown[][] = [];
  queue.add(queued(1, [['c', 1], ['a', 2]], outcomes));
  queue.add(queued(2, [['a', 3], ['b', 4], ['c', 10]], outcomes));
  t.is(queue.size, 2);
  t.is(db.get(k('a')), undefined, 'nothing is applied before the flush');
  queue.flush();
  t.is(queue.size, 0);
  t.deepEqual(db.incrManyCalls, [{ keys: ['a', 'b', 'c'].map((n) => k(n).toString('latin1')), deltas: [5, 4, 11] }]);
  t.deepEqual([db.get(k('a')), db.get(k('b')), db.get(k('c'))], [5n, 4n, 11n]);
  t.true(db.dedupSeen('p', 1));
  t.true(db.dedupSeen('p', 2));
  t.deepEqual(outcomes.slice(1), [[null], [null]]);
  queue.flush();
  t.is(db.incrManyCalls.length, 1, 'an empty queue runs nothing');
  db.commit();
});

test('when the summed run fails, the batches are redone one by one and only the bad one fails', (t) => {
  const db = open(t);
  db.set(k('bytes'), Buffer.from('not a counter'));
  const queue = new IncrQueue(db, new ChangeLog());
  const outcomes: unknown[][] = [];
  queue.add(queued(1, [['a', 1]], outcomes));
  queue.add(queued(2, [['a', 5], ['bytes', 1]], outcomes));
  queue.add(queued(3, [['b', 1], ['a', 1]], outcomes));
  queue.flush();
  t.is(outcomes[1]![0], null);
  t.true(outcomes[2]![0] instanceof TypeMismatch);
  t.is(outcomes[3]![0], null);
  t.deepEqual([db.get(k('a')), db.get(k('b')), db.get(k('bytes'))], [2n, 1n, Buffer.from('not a counter')], 'the bad batch left nothing');
  t.deepEqual([db.dedupSeen('p', 1), db.dedupSeen('p', 2), db.dedupSeen('p', 3)], [true, false, true]);
  db.commit();
});

test('a batch redelivered while queued is found by (producer, seq) and gets the outcome of the first copy', (t) => {
  const db = open(t);
  const queue = new IncrQueue(db, new ChangeLog());
  const outcomes: unknown[][] = [];
  const first = queued(7, [['r', 2]], outcomes);
  queue.add(first);
  t.is(queue.get('p', 7), first);
  t.is(queue.get('p', 8), undefined);
  t.is(queue.get('q', 7), undefined);
  const redelivered: unknown[] = [];
  queue.get('p', 7)!.done.push((err) => redelivered.push(err));
  queue.flush();
  t.deepEqual(outcomes[7], [null]);
  t.deepEqual(redelivered, [null]);
  t.is(db.get(k('r')), 2n, 'applied once');
  t.is(queue.get('p', 7), undefined, 'after the flush the dedup record answers instead');
  db.commit();
});

test('marks are applied in key order, once per key, creating the empty value and leaving what exists as it is', (t) => {
  const db = open(t);
  db.set(k('held'), Buffer.from('kept'));
  db.incr(k('counter'), 7);
  // More than one multi-row statement's worth, so both of markMany's paths run.
  const many = Array.from({ length: 150 }, (_, i) => `m${String(i).padStart(3, '0')}`);
  const queue = new IncrQueue(db, new ChangeLog());
  const outcomes: unknown[][] = [];
  queue.add(queued(1, [['a', 1]], outcomes, ['z', 'held', ...many.slice(0, 100).reverse()]));
  queue.add(queued(2, [['a', 2]], outcomes, ['counter', 'z', ...many.slice(50)]));
  queue.flush();
  t.deepEqual(outcomes.slice(1), [[null], [null]]);
  t.is(db.markManyCalls.length, 1, 'one run for the whole queue');
  const expected = ['counter', 'held', ...many, 'z'].map((n) => k(n).toString('latin1')).sort();
  t.deepEqual(db.markManyCalls[0], expected, 'sorted, each key once');
  t.deepEqual(db.get(k('z')), Buffer.alloc(0));
  t.deepEqual(db.get(k('m149')), Buffer.alloc(0));
  t.deepEqual(db.get(k('held')), Buffer.from('kept'), 'a mark never overwrites bytes');
  t.is(db.get(k('counter')), 7n, 'nor a counter');
  t.is(db.get(k('a')), 3n);
  t.deepEqual([db.dedupSeen('p', 1), db.dedupSeen('p', 2)], [true, true]);
  db.commit();
});

test('a key marked by one batch and increased by another is applied in arrival order, batch by batch', (t) => {
  const db = open(t);
  const queue = new IncrQueue(db, new ChangeLog());
  const outcomes: unknown[][] = [];
  queue.add(queued(1, [['n', 1]], outcomes, ['x']));
  queue.add(queued(2, [['x', 1]], outcomes, ['n', 'y']));
  queue.flush();
  t.is(db.markManyCalls.length, 0, 'no sorted run');
  t.is(outcomes[1]![0], null);
  t.true(outcomes[2]![0] instanceof TypeMismatch, 'x was marked (bytes) before batch 2 increased it');
  t.deepEqual([db.get(k('n')), db.get(k('x')), db.get(k('y'))], [1n, Buffer.alloc(0), undefined], 'batch 1 applied whole, batch 2 not at all');
  t.deepEqual([db.dedupSeen('p', 1), db.dedupSeen('p', 2)], [true, false]);
  db.commit();
});

test('a watched fork takes the same sorted runs and notes each final total, each created mark and each dedup record', (t) => {
  // Over 64 distinct keys, so the multi-row RETURNING statements run as well as the single-row ones.
  const names = Array.from({ length: 150 }, (_, i) => `n${String(i).padStart(3, '0')}`);
  const load = (queue: IncrQueue, outcomes: unknown[][]) => {
    queue.add(queued(1, names.map((n, i) => [n, i + 1]), outcomes, ['m1', 'held']));
    queue.add(queued(2, names.slice(20, 100).map((n) => [n, -3]), outcomes, ['m2', 'm1']));
  };
  const plain = open(t);
  plain.incr(k('n005'), 100);
  plain.set(k('held'), Buffer.from('kept'));
  const plainOutcomes: unknown[][] = [];
  const plainQueue = new IncrQueue(plain, new ChangeLog());
  load(plainQueue, plainOutcomes);
  plainQueue.flush();

  const db = open(t);
  db.incr(k('n005'), 100);
  db.set(k('held'), Buffer.from('kept'));
  const log = new ChangeLog();
  const chunks: ForkChunk[] = [];
  log.watch(FORK, (chunk) => chunks.push(chunk));
  const outcomes: unknown[][] = [];
  const queue = new IncrQueue(db, log);
  load(queue, outcomes);
  queue.flush();
  log.publish(true);

  t.deepEqual(outcomes, plainOutcomes);
  t.deepEqual(db.incrManyCalls, plain.incrManyCalls, 'the same sorted, summed run');
  t.deepEqual(db.markManyCalls, plain.markManyCalls);
  t.is(chunks.length, 1);
  const noted = new Map(chunks[0]!.entries.map((e) => [e.key.toString('latin1'), e]));
  t.is(noted.size, chunks[0]!.entries.length, 'each key noted once');
  t.deepEqual([...noted.keys()].sort(), [...names, 'm1', 'm2'].map((n) => k(n).toString('latin1')).sort(), 'every increased key and the created marks; not the mark that found bytes');
  for (const [name, e] of noted) {
    const stored = db.get(Buffer.from(name, 'latin1'));
    t.deepEqual(stored, plain.get(Buffer.from(name, 'latin1')), 'the same rows as unwatched');
    t.deepEqual(wireToStored(e), stored, `the note of ${name} is its final value`);
  }
  t.deepEqual(chunks[0]!.dedup.map((d) => d.seq), [1, 2]);
  plain.commit();
  db.commit();
});

test('a watched fork redone batch by batch notes the totals of the batches that applied, and nothing of the one that failed', (t) => {
  const db = open(t);
  db.set(k('bytes'), Buffer.from('not a counter'));
  const log = new ChangeLog();
  const chunks: ForkChunk[] = [];
  log.watch(FORK, (chunk) => chunks.push(chunk));
  const queue = new IncrQueue(db, log);
  const outcomes: unknown[][] = [];
  queue.add(queued(1, [['a', 1]], outcomes, ['m']));
  queue.add(queued(2, [['a', 5], ['bytes', 1]], outcomes));
  queue.add(queued(3, [['a', 2]], outcomes));
  queue.flush();
  log.publish(true);
  t.true(outcomes[2]![0] instanceof TypeMismatch);
  const notes = chunks[0]!.entries.map((e) => [e.key.toString('latin1'), wireToStored(e)]);
  t.deepEqual(notes, [[k('a').toString('latin1'), 1n], [k('m').toString('latin1'), Buffer.alloc(0)], [k('a').toString('latin1'), 3n]]);
  t.deepEqual(chunks[0]!.dedup.map((d) => d.seq), [1, 3]);
  t.is(db.get(k('a')), 3n);
  db.commit();
});
