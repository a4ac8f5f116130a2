// Where an owner places its forks' replicas (store/replication/placement.ts, pure): on members other
// than the owner and each other, the least loaded first; replicas on gone members out of the
// in-sync set are replaced, in-sync ones are kept (only the owner's lag drop takes them out); a
// returning old owner becomes a replica again, and the stand-in gives way once it is in sync.
import test from 'ava';
import { ForkMap } from '../store/map/fork_map.js';
import { placeReplicas } from '../store/replication/placement.js';

const none = () => false;

test('replicas go to other members, never twice to one, spread by the copies each holds', (t) => {
  const map = ForkMap.initial('a');
  const { changes, drops } = placeReplicas(map.entries.values(), 'a', 3, ['a', 'b', 'c', 'd'], none);
  t.is(changes.length, 256);
  t.deepEqual(drops, []);
  const load = new Map<string, number>();
  for (const c of changes) {
    t.is(c.replicas.length, 2);
    t.false(c.replicas.includes('a'));
    t.is(new Set(c.replicas).size, 2);
    t.deepEqual(c.inSync, []);
    for (const id of c.replicas) load.set(id, (load.get(id) ?? 0) + 1);
  }
  t.deepEqual([...load.values()].sort(), [170, 171, 171], 'b, c and d share the 512 replicas evenly');
  t.deepEqual(placeReplicas(map.entries.values(), 'b', 2, ['a', 'b'], none).changes, [], 'only the owner places its forks');
  t.deepEqual(placeReplicas(map.entries.values(), 'a', 2, ['a'], none).changes, [], 'alone, no replica can be placed');
});

test('a replica on a gone member is replaced unless it is in sync', (t) => {
  const map = ForkMap.initial('a').withReplicaChanges([
    { fork: '00', replicas: ['b'], inSync: [] },
    { fork: '01', replicas: ['b'], inSync: ['b'] },
  ]);
  const gone = (id: string) => id === 'b';
  const { changes } = placeReplicas([map.get('00')!, map.get('01')!], 'a', 2, ['a', 'c'], gone);
  t.deepEqual(changes, [{ fork: '00', replicas: ['c'], inSync: [] }]);
});

test('a returning old owner becomes a replica on top of a full set; the stand-in gives way once it is in sync', (t) => {
  // b took fork 00 from a by a failover (R = 2) and placed its replica on c; a is alive again.
  const alive = ['a', 'b', 'c', 'd'];
  const returning = new Map([['00', { member: 'a' }]]);
  const at = (replicas: string[], inSync: string[]) => ({ fork: '00', owner: 'b', epoch: 9, replicas, inSync });
  const place = (replicas: string[], inSync: string[], back = returning, factor = 2) => placeReplicas([at(replicas, inSync)], 'b', factor, alive, none, back);

  t.deepEqual(place(['c'], ['c']), { changes: [{ fork: '00', replicas: ['c', 'a'], inSync: ['c'] }], drops: [] }, 'a is added beside the in-sync stand-in');
  t.deepEqual(place(['c', 'a'], ['c']), { changes: [], drops: [] }, 'while a catches up, the stand-in stays in sync: nothing changes');
  t.deepEqual(place(['c', 'a'], ['c', 'a']), { changes: [], drops: [{ fork: '00', replica: 'c' }] }, 'a in sync: the stand-in is dropped from the in-sync set first (a confirmed drop)');
  t.deepEqual(place(['c', 'a'], ['a']), { changes: [{ fork: '00', replicas: ['a'], inSync: ['a'] }], drops: [] }, 'then let go');
  t.deepEqual(place(['a'], ['a']), { changes: [], drops: [] }, 'done');

  t.deepEqual(place([], []).changes, [{ fork: '00', replicas: ['a'], inSync: [] }], 'R short: the old owner is the replica chosen, whatever it holds');
  t.deepEqual(placeReplicas([at(['c'], ['c'])], 'b', 2, ['b', 'c', 'd'], none, returning).changes, [], 'not alive: no change');
  t.deepEqual(place(['c', 'a'], ['c', 'a'], new Map()).drops, [{ fork: '00', replica: 'c' }], 'without a returning member, an extra in-sync replica also goes, the most loaded (c: 1 copy, a: 1, c > a)');
  t.deepEqual(place(['c', 'd'], ['c'], new Map()).changes, [{ fork: '00', replicas: ['c'], inSync: ['c'] }], 'a spare replica out of the in-sync set goes at once');
  t.deepEqual(place(['c', 'd', 'a'], ['c', 'd'], returning, 3), { changes: [], drops: [] }, 'R = 3: a waits on top of two in-sync stand-ins');
  t.deepEqual(place(['c', 'd', 'a'], ['c', 'd', 'a'], returning, 3).drops, [{ fork: '00', replica: 'd' }], 'R = 3, a in sync: one stand-in goes (d, the larger id at equal load)');
});

test('a replica moved by the operator: the target joins on top, and the replica it replaces gives way once it is in sync', (t) => {
  const alive = ['a', 'b', 'c', 'd'];
  const moving = new Map([['00', { member: 'd', replacing: 'b' }]]);
  const at = (replicas: string[], inSync: string[]) => ({ fork: '00', owner: 'a', epoch: 9, replicas, inSync });
  const place = (replicas: string[], inSync: string[]) => placeReplicas([at(replicas, inSync)], 'a', 3, alive, none, moving);
  t.deepEqual(place(['b', 'c'], ['b', 'c']).changes, [{ fork: '00', replicas: ['b', 'c', 'd'], inSync: ['b', 'c'] }]);
  t.deepEqual(place(['b', 'c', 'd'], ['b', 'c']), { changes: [], drops: [] }, 'd catches up: b stays');
  t.deepEqual(place(['b', 'c', 'd'], ['b', 'c', 'd']), { changes: [], drops: [{ fork: '00', replica: 'b' }] }, 'd in sync: b is dropped, not c');
  t.deepEqual(place(['b', 'c', 'd'], ['c', 'd']).changes, [{ fork: '00', replicas: ['c', 'd'], inSync: ['c', 'd'] }], 'then let go');
  t.deepEqual(place(['b', 'c', 'd'], ['b', 'c']).drops, [], 'never the in-sync b while d is not');
});
