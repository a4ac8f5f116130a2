// Pure tests of the key layout and the fork map.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { supersedes } from '../store/map/fork_entry.js';
import { ForkMap, forkRange } from '../store/map/fork_map.js';
import { formatKey, makeKey, parseKey, parseTextKey, rangePrefix, routingBytes, textKey } from '../store/protocol/keys.js';
import { tempDir } from './helpers/temp_dir.js';

test('keys sharing a routing prefix share routing bytes and form one contiguous range', (t) => {
  const a = makeKey('ng', Buffer.from('the cat'), Buffer.from('sat'));
  const b = makeKey('ng', Buffer.from('the cat'), Buffer.from('ran'));
  const other = makeKey('ng', Buffer.from('the ca'), Buffer.from('tsat'));
  t.deepEqual(a.subarray(0, 4), routingBytes('ng', Buffer.from('the cat')));
  t.deepEqual(a.subarray(0, 4), b.subarray(0, 4));
  const rp = rangePrefix('ng', Buffer.from('the cat'));
  t.true(a.subarray(0, rp.length).equals(rp) && b.subarray(0, rp.length).equals(rp));
  t.false(other.subarray(0, rp.length).equals(rp)); // same bytes after the namespace, different routing prefix
  t.notDeepEqual(routingBytes('ng', Buffer.from('x')), routingBytes('ng2', Buffer.from('x')));
  const p = parseKey(a);
  t.is(p.ns, 'ng');
  t.is(Buffer.from(p.prefix).toString(), 'the cat');
  t.is(Buffer.from(p.rest).toString(), 'sat');
  t.is(formatKey(textKey('ng:the cat|sat')), 'ng:the cat|sat');
  t.deepEqual(parseTextKey('ng:a\\x00b|c').prefix, Buffer.from([0x61, 0, 0x62]));
  t.deepEqual(parseTextKey('nonamespace').ns, 'kv'); // a key written without a namespace is in the default one
  t.throws(() => parseTextKey(':empty-namespace'));
  t.throws(() => parseKey(Buffer.from([1, 2, 3, 4, 0, 9, 0x61])), { message: /routing prefix/ });
});

test('routing bytes spread contexts evenly over the 256 first-byte forks', (t) => {
  const counts = new Array<number>(256).fill(0);
  for (let i = 0; i < 25600; i++) counts[routingBytes('ng', Buffer.from(`w${i}`))[0]!]!++;
  t.true(Math.min(...counts) > 50 && Math.max(...counts) < 160, `fork loads ${Math.min(...counts)}..${Math.max(...counts)}`);
});

test('initial map: 256 forks, longest-prefix lookup, assign bumps the epoch', (t) => {
  const m = ForkMap.initial('a');
  t.is(m.size, 256);
  t.is(m.version, 1);
  t.is(m.lookup(Buffer.from([0x3f, 1, 2, 3])).fork, '3f');
  const m2 = m.assign('3f', 'b');
  t.is(m2.version, 2);
  t.deepEqual(m2.get('3f'), { fork: '3f', owner: 'b', epoch: 2 });
  t.is(m.get('3f')!.owner, 'a', 'maps are immutable');
  t.throws(() => m.assign('zz', 'b'), { message: /not in the map/ });
});

test('a spread map deals the 256 forks round-robin in fork order, all at one epoch', (t) => {
  const m = ForkMap.spread(['a', 'b', 'c']);
  t.is(m.size, 256);
  t.is(m.version, 1);
  t.deepEqual([m.get('00')!.owner, m.get('01')!.owner, m.get('02')!.owner, m.get('03')!.owner, m.get('ff')!.owner], ['a', 'b', 'c', 'a', 'a']);
  t.deepEqual(['a', 'b', 'c'].map((id) => m.forksOf(id).length), [86, 85, 85]);
  t.true([...m.entries.values()].every((e) => e.epoch === 1));
  t.throws(() => ForkMap.spread([]), { message: /at least one owner/ });
});

test('split and merge keep the map tiling the routing space', (t) => {
  const s = ForkMap.initial('a').split('3f');
  t.is(s.size, 255 + 256);
  t.is(s.lookup(Buffer.from([0x3f, 0x0a, 0, 0])).fork, '3f0a');
  t.is(s.lookup(Buffer.from([0x40, 0x0a, 0, 0])).fork, '40');
  t.is(s.forkOfPrefix(Buffer.from([0x3f])), null);
  t.is(s.forksUnder(Buffer.from([0x3f])).length, 256);
  const moved = s.assign('3f0a', 'b');
  t.throws(() => moved.merge('3f'), { message: /owned by/ });
  const back = s.merge('3f');
  t.is(back.size, 256);
  t.is(back.get('3f')!.epoch, 3);
  t.deepEqual(forkRange('3fff'), { lo: Buffer.from([0x3f, 0xff]), hi: Buffer.from([0x40]) });
  t.deepEqual(forkRange('ff'), { lo: Buffer.from([0xff]), hi: null });
});

test('mergeMaps: the newest epoch wins per routing value, across splits and merges', (t) => {
  const base = ForkMap.initial('a');
  const moved = base.assign('10', 'b'); // epoch 2
  t.is(ForkMap.mergeMaps(base, moved).get('10')!.owner, 'b');
  t.is(ForkMap.mergeMaps(moved, base).get('10')!.owner, 'b');
  const split = moved.split('20'); // epoch 3: children of 20
  const other = moved.assign('20', 'c'); // epoch 3 on another member... then newer:
  const newer = other.assign('30', 'c'); // epoch 4
  const m = ForkMap.mergeMaps(split, newer);
  t.is(m.get('30')!.owner, 'c');
  // Conflicting decisions at one epoch (should not happen) still resolve the same on every member.
  t.true(m.equals(ForkMap.mergeMaps(newer, split)));
  t.is(m.get('20')!.owner, 'c');
  // A newer split beats an older parent; a newer merge beats older children.
  const older = ForkMap.initial('a');
  const s2 = older.split('55').assign('5501', 'b');
  const mm = ForkMap.mergeMaps(older, s2);
  t.is(mm.get('5501')!.owner, 'b');
  t.falsy(mm.get('55'));
  const merged = s2.assign('5501', 'a').merge('55');
  const mm2 = ForkMap.mergeMaps(s2, merged);
  t.truthy(mm2.get('55'));
  t.falsy(mm2.get('5501'));
  // A parent that lost one child to a newer entry keeps the rest as children.
  const partial = ForkMap.fromEntries([...older.entries.values()].filter((e) => e.fork !== '77').concat(Array.from({ length: 256 }, (_, i) => ({ fork: '77' + i.toString(16).padStart(2, '0'), owner: 'z', epoch: i === 5 ? 9 : 0 }))));
  const pm = ForkMap.mergeMaps(older.assign('77', 'q'), partial);
  t.is(pm.get('7705')!.owner, 'z');
  t.is(pm.get('7706')!.owner, 'q');
  pm.checkTiling();
});

test('encode/decode and atomic persist/load round-trip; bad files are reported', (t) => {
  const m = ForkMap.initial('a').split('01').assign('0102', 'b');
  t.true(ForkMap.decode(m.encode()).equals(m));
  const dir = tempDir('dbslm-');
  const file = path.join(dir, 'forkmap.avro');
  t.is(ForkMap.load(file), null);
  m.persist(file);
  t.true(ForkMap.load(file)!.equals(m));
  t.deepEqual(fs.readdirSync(dir), ['forkmap.avro']);
  fs.writeFileSync(file, Buffer.from('garbage'));
  t.throws(() => ForkMap.load(file), { message: /forkmap\.avro is unreadable/ });
  t.throws(() => ForkMap.fromEntries([{ fork: '00', owner: 'a', epoch: 1 }]), { message: /covers/ });
});

test('replicas, in-sync sets and terms ride on entries; a map file from before them reads as one without replicas', async (t) => {
  const base = ForkMap.initial('a', 3);
  const m = base.withReplicaChanges([{ fork: '10', replicas: ['b', 'c'], inSync: ['b'] }]);
  t.deepEqual(m.get('10'), { fork: '10', owner: 'a', epoch: 4, replicas: ['b', 'c'], inSync: ['b'], term: 3 }, 'a new epoch, the owner keeps its term');
  t.deepEqual(m.get('11'), { fork: '11', owner: 'a', epoch: 3 }, 'an entry without replicas is as before');
  t.false(m.equals(base.withReplicaChanges([{ fork: '10', replicas: ['b', 'c'], inSync: ['c'] }])), 'the in-sync set tells maps apart');
  t.true(ForkMap.decode(m.encode()).equals(m));
  t.deepEqual(ForkMap.mergeMaps(base, m).get('10')!.inSync, ['b'], 'the newer entry wins with its sets');
  t.deepEqual(m.split('10').get('1000'), { fork: '1000', owner: 'a', epoch: 5 }, 'split children start without replicas');
  // Two members taking the same epoch for one fork: the old owner changing its replicas, the replica
  // promoting itself (a new term). The change of owner wins on every member, merged or pushed.
  const promoted = base.withReplicaChanges([{ fork: '11', replicas: ['b'], inSync: ['b'] }]).withEntry({ fork: '10', owner: 'b', epoch: 4, term: 4 });
  for (const merged of [ForkMap.mergeMaps(m, promoted), ForkMap.mergeMaps(promoted, m)]) t.is(merged.get('10')!.owner, 'b', 'the newer term wins an equal epoch');
  t.true(supersedes(promoted.get('10')!, m.get('10')));
  t.false(supersedes(m.get('10')!, promoted.get('10')));
  t.false(supersedes(m.get('10')!, m.get('10')), 'an entry does not supersede itself');

  const dir = tempDir('dbslm-');
  const file = path.join(dir, 'forkmap.avro');
  m.persist(file);
  t.true(ForkMap.load(file)!.equals(m));
  // A file as versions before replication wrote it: the bare Avro map of {fork, owner, epoch} entries.
  const { ForkMapV1Type } = await import('../schemas/fork_map.js');
  fs.writeFileSync(file, ForkMapV1Type.toBuffer(base.toJSON()));
  const old = ForkMap.load(file)!;
  t.true(old.equals(base));
  t.is(old.get('10')!.replicas, undefined);
});
