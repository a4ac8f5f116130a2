// The increment queue on a real ForkDb in a temp dir: queued batches are applied as one sorted,
// summed UPSERT run with every dedup record; marks as one sorted, deduplicated run that never
// overwrites; a batch that cannot apply fails alone; a key both marked and increased falls back to
// arrival order; a batch redelivered while queued shares the first copy's outcome.
import test from 'ava';
import { ForkDb, TypeMismatch } from '../store/actor/fork_db.js';
import { IncrQueue, type QueuedBatch } from '../store/actor/incr_queue.js';
import { tmpDir } from './helpers/store_procs.js';

/** A real ForkDb that also records the rows of every multi-row increment it runs. */
class RecordingDb extends ForkDb {
  readonly incrManyCalls: { keys: string[]; deltas: number[] }[] = [];
  readonly markManyCalls: string[][] = [];
  override incrMany(keys: Buffer[], deltas: number[]): boolean {
    this.incrManyCalls.push({ keys: keys.map((k) => k.toString('latin1')), deltas: [...deltas] });
    return super.incrMany(keys, deltas);
  }
  override markMany(keys: Buffer[]): void {
    this.markManyCalls.push(keys.map((k) => k.toString('latin1')));
    super.markMany(keys);
  }
}

const anchor = Buffer.from([1, 2, 3, 4]);
const k = (name: string) => Buffer.concat([anchor, Buffer.from(name)]);

function queued(seq: number, rows: [string, number][], outcomes: unknown[][], marks: string[] = []): QueuedBatch {
  const outcome: unknown[] = [];
  outcomes[seq] = outcome;
  return { producer: 'p', seq, anchor, keys: rows.map(([name]) => k(name)), deltas: rows.map(([, d]) => d), marks: marks.map(k), done: [(err) => outcome.push(err)] };
}

function open(t: { teardown: (fn: () => void) => void }): RecordingDb {
  const db = new RecordingDb(tmpDir(), 'normal');
  t.teardown(() => db.close());
  db.begin();
  return db;
}

test('a flush sums the deltas per key, applies them in key order in one run, records every batch, reports each applied', (t) => {
  const db = open(t);
  const queue = new IncrQueue(db);
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
  const queue = new IncrQueue(db);
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
  const queue = new IncrQueue(db);
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
  const queue = new IncrQueue(db);
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
  const queue = new IncrQueue(db);
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
