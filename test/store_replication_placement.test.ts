// Where an owner places its forks' replicas (store/replication/placement.ts, pure): on members other
// than the owner and each other, the least loaded first; replicas on gone members out of the
// in-sync set are replaced, in-sync ones are kept (only the owner's lag drop takes them out).
import test from 'ava';
import { ForkMap } from '../store/map/fork_map.js';
import { placeReplicas } from '../store/replication/placement.js';

const none = () => false;

test('replicas go to other members, never twice to one, spread by the copies each holds', (t) => {
  const map = ForkMap.initial('a');
  const changes = placeReplicas(map.entries.values(), 'a', 3, ['a', 'b', 'c', 'd'], none);
  t.is(changes.length, 256);
  const load = new Map<string, number>();
  for (const c of changes) {
    t.is(c.replicas.length, 2);
    t.false(c.replicas.includes('a'));
    t.is(new Set(c.replicas).size, 2);
    t.deepEqual(c.inSync, []);
    for (const id of c.replicas) load.set(id, (load.get(id) ?? 0) + 1);
  }
  t.deepEqual([...load.values()].sort(), [170, 171, 171], 'b, c and d share the 512 replicas evenly');
  t.deepEqual(placeReplicas(map.entries.values(), 'b', 2, ['a', 'b'], none), [], 'only the owner places its forks');
  t.deepEqual(placeReplicas(map.entries.values(), 'a', 2, ['a'], none), [], 'alone, no replica can be placed');
});

test('a replica on a gone member is replaced unless it is in sync', (t) => {
  const map = ForkMap.initial('a').withReplicaChanges([
    { fork: '00', replicas: ['b'], inSync: [] },
    { fork: '01', replicas: ['b'], inSync: ['b'] },
  ]);
  const gone = (id: string) => id === 'b';
  const changes = placeReplicas([map.get('00')!, map.get('01')!], 'a', 2, ['a', 'c'], gone);
  t.deepEqual(changes, [{ fork: '00', replicas: ['c'], inSync: [] }]);
});
