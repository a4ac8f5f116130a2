// The actor's SQLite layer on its own: durability pragmas, counters vs bytes, savepoint atomicity,
// dedup records by anchor range, range scans at the top of the key space.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { ForkDb, TypeMismatch } from '../store/actor/fork_db.js';
import { tempDir } from './helpers/temp_dir.js';

const dir = () => tempDir('dbslm-');
const b = (...xs: number[]) => Buffer.from(xs);

test('durability maps to synchronous NORMAL / FULL in WAL mode', (t) => {
  const n = new ForkDb(dir(), 'normal');
  const f = new ForkDb(dir(), 'full');
  t.teardown(() => (n.close(), f.close()));
  t.is(n.db.pragma('journal_mode', { simple: true }), 'wal');
  t.is(n.db.pragma('synchronous', { simple: true }), 1);
  t.is(f.db.pragma('synchronous', { simple: true }), 2);
  t.is(n.db.pragma('wal_autocheckpoint', { simple: true }), 8192);
});

test('counters and bytes, savepoints, dedup by anchor, scans and purge', (t) => {
  const db = new ForkDb(dir(), 'normal');
  t.teardown(() => db.close());
  db.begin();
  db.incr(b(1, 2, 3, 4, 9), 5);
  t.is(db.incrGet(b(1, 2, 3, 4, 9), -7), -2n);
  db.set(b(1, 2, 3, 4, 8), b(0xaa));
  t.throws(() => db.incr(b(1, 2, 3, 4, 8), 1), { instanceOf: TypeMismatch });
  t.throws(() =>
    db.atomic(() => {
      db.set(b(1, 2, 3, 4, 7), b(1));
      db.incr(b(1, 2, 3, 4, 8), 1);
    }),
    { instanceOf: TypeMismatch },
  );
  t.is(db.get(b(1, 2, 3, 4, 7)), undefined, 'the failed savepoint left nothing');
  db.setMany([b(0xff, 0xff, 0xff, 0xff, 1)], [2n ** 62n]);
  db.incr(b(0xff, 0xff, 0xff, 0xff, 1), 1);
  db.dedupRecord('p', 1, b(1, 2, 3, 4));
  db.dedupRecord('p', 2, b(0xff, 0xff, 0xff, 0xff));
  db.dedupRecord('q', 1, b(1, 2, 3, 5));
  db.commit();

  t.is(db.get(b(0xff, 0xff, 0xff, 0xff, 1)), 2n ** 62n + 1n, 'counters are exact 64-bit');
  t.deepEqual(db.get(b(1, 2, 3, 4, 8)), b(0xaa));
  t.true(db.dedupSeen('p', 2));
  t.false(db.dedupSeen('p', 3));
  t.deepEqual(db.dedupUnder(b(1)).map((d) => `${d.producer}/${d.seq}`).sort(), ['p/1', 'q/1']);
  t.deepEqual(db.dedupUnder(b(0xff)).map((d) => `${d.producer}/${d.seq}`), ['p/2']);
  db.dedupPrune('p', 2);
  t.false(db.dedupSeen('p', 1));
  t.true(db.dedupSeen('p', 2));

  t.deepEqual(db.scan(b(0xff, 0xff), null, 10).map((r) => r.key), [b(0xff, 0xff, 0xff, 0xff, 1)]);
  t.deepEqual(db.scan(b(1, 2, 3, 4), null, 1).map((r) => r.key), [b(1, 2, 3, 4, 8)]);
  t.deepEqual(db.scan(b(1, 2, 3, 4), b(1, 2, 3, 4, 8), 5).map((r) => r.key), [b(1, 2, 3, 4, 9)]);
  t.deepEqual(db.size(b(1)), { keys: 2, bytes: 5 + 1 + 5 + 8 });
  t.deepEqual(db.branches(b(1), 5).map((x) => x.entries), [1, 1]);
  db.begin();
  t.is(db.purge(b(1), true), 2);
  db.commit();
  t.deepEqual(db.dedupUnder(b(1)), []);
  t.is(db.size(b()).keys, 1);
});

test('setMany stores a bigint as a counter, in its multi-row statements and its single-row tail, in order', (t) => {
  const db = new ForkDb(dir(), 'normal');
  t.teardown(() => db.close());
  const keys = Array.from({ length: 130 }, (_, i) => b(1, 2, 3, 4, i));
  db.begin();
  db.setMany(keys, keys.map((_, i) => (i % 2 ? BigInt(i) - 3n : b(i))));
  db.setMany([keys[0]!, keys[0]!], [5n, 6n]);
  db.incrMany([keys[1]!, keys[65]!, keys[129]!, keys[0]!], [1, 1, 1, 1]);
  db.commit();
  t.deepEqual([0, 1, 2, 65, 128, 129].map((i) => db.get(keys[i]!)), [7n, -1n, b(2), 63n, b(128), 127n]);
});

test('incrMany: multi-row increments create and add, and report a key holding bytes', (t) => {
  const db = new ForkDb(dir(), 'normal');
  t.teardown(() => db.close());
  const keys = Array.from({ length: 150 }, (_, i) => b(1, 2, 3, 4, i >> 8, i & 255));
  db.begin();
  t.true(db.incrMany(keys, keys.map((_, i) => i + 1)));
  t.true(db.incrMany(keys, keys.map(() => -1)));
  for (const i of [0, 63, 64, 127, 128, 149]) t.is(db.get(keys[i]!), BigInt(i), `key ${i}`);
  db.set(keys[70]!, b(0xaa)); // in the second 64-row statement
  db.set(keys[140]!, b(0xbb)); // in the single-row tail
  t.false(db.atomic(() => db.incrMany(keys.slice(0, 128), keys.slice(0, 128).map(() => 1))));
  t.false(db.incrMany(keys.slice(128), keys.slice(128).map(() => 1)));
  t.deepEqual(db.get(keys[70]!), b(0xaa), 'bytes are never overwritten by an increment');
  db.commit();
});

test('incrMany and setMany over every remainder size (statements of 32, 16, 8, 4 and 2 rows after the 64-row ones): each row once, totals reported, bytes found', (t) => {
  const db = new ForkDb(dir(), 'normal');
  t.teardown(() => db.close());
  db.begin();
  // 64 + 63 = 127 keys: every remainder statement and the single tail row run once.
  for (const n of [1, 2, 3, 63, 127]) {
    const keys = Array.from({ length: n }, (_, i) => b(9, n, i));
    const totals = new Map<string, bigint>();
    t.true(db.incrMany(keys, keys.map((_, i) => i + 1), (key, total) => void totals.set(key.toString('hex'), total)), `n=${n}`);
    t.true(db.incrMany(keys, keys.map(() => 2), (key, total) => void totals.set(key.toString('hex'), total)), `n=${n}`);
    t.is(totals.size, n, `n=${n}: every key's total reported`);
    for (let i = 0; i < n; i++) t.is(totals.get(keys[i]!.toString('hex')), BigInt(i + 3), `n=${n} key ${i}`);
    db.setMany(keys, keys.map((_, i) => b(i)));
    for (let i = 0; i < n; i++) t.deepEqual(db.get(keys[i]!), b(i), `n=${n} key ${i} set`);
  }
  const keys = Array.from({ length: 127 }, (_, i) => b(8, i));
  t.true(db.incrMany(keys, keys.map(() => 1)));
  db.set(keys[64 + 32 + 5]!, b(0xaa)); // in the 16-row statement
  t.false(db.atomic(() => db.incrMany(keys, keys.map(() => 1), () => undefined)), 'with RETURNING');
  t.false(db.atomic(() => db.incrMany(keys, keys.map(() => 1))), 'without');
  t.is(db.get(keys[126]!), 1n, 'the statements after the one that met bytes did not run (the caller rolls back the rest)');
  db.commit();
});

test('setMany: multi-row sets create and overwrite, in order, over the 64-row statements and the tail', (t) => {
  const db = new ForkDb(dir(), 'normal');
  t.teardown(() => db.close());
  const keys = Array.from({ length: 150 }, (_, i) => b(1, 2, 3, 4, i >> 8, i & 255));
  db.begin();
  db.incr(keys[5]!, 7); // a counter is overwritten by a set, as set() does
  db.setMany(keys, keys.map((_, i) => b(i & 255, 1)));
  // Repeats within one call: the last value stands (key 3 in the first statement, key 140 in the tail).
  db.setMany([keys[3]!, keys[3]!, ...keys.slice(10, 72), keys[140]!, keys[140]!], [b(0xa1), b(0xa2), ...keys.slice(10, 72).map(() => b(0xcc)), b(0xb1), b(0xb2)]);
  db.commit();
  t.deepEqual(db.get(keys[3]!), b(0xa2));
  t.deepEqual(db.get(keys[140]!), b(0xb2));
  t.deepEqual(db.get(keys[5]!), b(5, 1));
  for (const i of [0, 9, 72, 127, 128, 149]) t.deepEqual(db.get(keys[i]!), b(i, 1), `key ${i}`);
  for (const i of [10, 63, 64, 71]) t.deepEqual(db.get(keys[i]!), b(0xcc), `key ${i}`);
  t.is(db.size(b()).keys, 150);
});

test('the database is held exclusively: a second opener of the same data dir is refused, and gets it after close', (t) => {
  const d = dir();
  const first = new ForkDb(d, 'normal');
  t.is(first.db.pragma('locking_mode', { simple: true }), 'exclusive');
  first.begin();
  first.incr(b(1, 2, 3, 4, 1), 41);
  first.commit();
  t.throws(() => new ForkDb(d, 'normal'), { message: /store\.db is locked by another process: is another store actor running with this --data dir\?/ });
  first.close();
  const second = new ForkDb(d, 'normal');
  t.teardown(() => second.close());
  t.is(second.get(b(1, 2, 3, 4, 1)), 41n);
});
