// The owner's side of replication (store/replication/in_sync.ts) on a fake clock: which writes may
// be acknowledged and when a replica drops out of the in-sync set or is admitted again. Seeded runs
// drive an owner and replicas with random delays, a replica that stalls and later catches up, and a
// fork map that takes each drop after a random delay; every release is checked against what the
// counted replicas had committed at that moment.
import test from 'ava';
import { seededRandom } from '../model/sample.js';
import { InSyncSet, type InSyncAction } from '../store/replication/in_sync.js';

test('a write is released only once the owner and every in-sync replica committed it', (t) => {
  const set = new InSyncSet(['b', 'c'], { lagBoundMs: 1000 });
  t.deepEqual(set.committed(3, 0), []);
  t.deepEqual(set.acked('b', 3), []);
  t.deepEqual(set.acked('c', 2), [{ kind: 'release', upTo: 2 }]);
  t.deepEqual(set.acked('c', 3), [{ kind: 'release', upTo: 3 }]);
  t.deepEqual(set.acked('c', 3), [], 'a repeated acknowledgement changes nothing');
  t.deepEqual(set.acked('c', 1), [], 'a late one neither');
  t.is(set.released, 3);
});

test('a replica past the lag bound is asked to be dropped, and counts until the map took the drop', (t) => {
  const set = new InSyncSet(['b', 'c'], { lagBoundMs: 1000 });
  set.committed(1, 0);
  set.acked('b', 1);
  t.deepEqual(set.tick(1000), [], 'at the bound: not yet');
  t.deepEqual(set.tick(1001), [{ kind: 'drop', replica: 'c', lagMs: 1001 }]);
  t.deepEqual(set.tick(5000), [], 'asked once');
  t.is(set.released, 0, 'c is still in the map: nothing it lacks is released');
  t.deepEqual(set.dropped('c'), [{ kind: 'release', upTo: 1 }]);
  t.deepEqual(set.counted(), ['b']);
});

test('a dropped replica that catches up is admitted, and releases wait for it again', (t) => {
  const set = new InSyncSet(['b'], { lagBoundMs: 100 });
  set.committed(5, 0);
  set.tick(200);
  set.dropped('b');
  t.is(set.released, 5, 'the owner alone');
  set.committed(8, 300);
  t.is(set.released, 8);
  t.deepEqual(set.acked('b', 7), [], 'behind the owner: still out');
  t.deepEqual(set.acked('b', 8), [{ kind: 'admit', replica: 'b' }]);
  set.committed(9, 400);
  t.is(set.released, 8, 'write 9 waits for b');
  t.deepEqual(set.acked('b', 9), [{ kind: 'release', upTo: 9 }]);
});

/** One seeded run: the owner commits every ~5 ms, replicas acknowledge after random delays, one stalls for a while. */
function simulate(seed: number, make = (ids: string[], lagBoundMs: number) => new InSyncSet(ids, { lagBoundMs })): { releases: number; drops: string[]; admits: string[]; violations: string[] } {
  const random = seededRandom(seed);
  const lagBoundMs = 200;
  const ids = ['b', 'c', 'd'];
  const set = make(ids, lagBoundMs);
  const stalled = ids[Math.floor(random() * ids.length)]!;
  const stallFrom = 500 + random() * 500;
  const stallTo = stallFrom + 400 + random() * 800;
  const committedAt = new Map<string, number>(ids.map((id) => [id, 0]));
  const published = new Set(ids); // the fork map's in-sync set
  const mapDelays: { at: number; replica: string }[] = [];
  const deliveries: { at: number; replica: string; seq: number }[] = [];
  const out = { releases: 0, drops: [] as string[], admits: [] as string[], violations: [] as string[] };
  let lastRelease = 0;
  let seq = 0;
  const apply = (actions: InSyncAction[], now: number) => {
    for (const a of actions) {
      if (a.kind === 'release') {
        out.releases++;
        if (a.upTo < lastRelease) out.violations.push(`release went back from ${lastRelease} to ${a.upTo}`);
        lastRelease = a.upTo;
        if (a.upTo > seq) out.violations.push(`released ${a.upTo} beyond the owner's ${seq}`);
        for (const id of published) if ((committedAt.get(id) ?? 0) < a.upTo) out.violations.push(`released ${a.upTo} at ${now} ms while ${id}, in the map's in-sync set, had ${committedAt.get(id)}`);
      } else if (a.kind === 'drop') {
        out.drops.push(a.replica);
        mapDelays.push({ at: now + 5 + random() * 50, replica: a.replica });
      } else {
        out.admits.push(a.replica);
        if ((committedAt.get(a.replica) ?? 0) < seq) out.violations.push(`${a.replica} admitted behind the owner`);
        published.add(a.replica);
      }
    }
  };
  for (let now = 0; now <= 3000; now++) {
    if (now % 5 === 0) {
      seq++;
      apply(set.committed(seq, now), now);
      for (const id of ids) {
        const stalls = id === stalled && now >= stallFrom && now < stallTo;
        // A stalled replica receives what was sent once it is back (a snapshot plus the tail, in one go here).
        deliveries.push({ at: stalls ? stallTo + random() * 20 : now + 1 + random() * 30, replica: id, seq });
      }
    }
    for (const d of deliveries.filter((x) => x.at <= now)) {
      committedAt.set(d.replica, Math.max(committedAt.get(d.replica)!, d.seq));
      apply(set.acked(d.replica, committedAt.get(d.replica)!), now);
    }
    deliveries.splice(0, deliveries.length, ...deliveries.filter((x) => x.at > now));
    for (const m of mapDelays.filter((x) => x.at <= now)) {
      published.delete(m.replica);
      apply(set.dropped(m.replica), now);
    }
    mapDelays.splice(0, mapDelays.length, ...mapDelays.filter((x) => x.at > now));
    if (now % 10 === 0) apply(set.tick(now), now);
  }
  for (const id of ids) if (id !== stalled && out.drops.includes(id)) out.violations.push(`${id} never stalled but was dropped`);
  if (!out.drops.includes(stalled)) out.violations.push(`${stalled} stalled ${Math.round(stallTo - stallFrom)} ms (bound ${lagBoundMs}) but was not dropped`);
  if (!out.admits.includes(stalled)) out.violations.push(`${stalled} caught up but was not admitted again`);
  if (set.released < seq - 10) out.violations.push(`only ${set.released} of ${seq} released at the end`);
  return out;
}

test('seeded runs: no release before every replica of the map committed it; a stalled replica is dropped and admitted back; the others never are', (t) => {
  for (let seed = 1; seed <= 20; seed++) {
    const r = simulate(seed);
    t.deepEqual(r.violations, [], `seed ${seed}`);
    t.true(r.releases > 100, `seed ${seed}: ${r.releases} releases`);
    if (seed === 1) t.log(`seed 1: ${r.releases} releases, dropped ${r.drops.join(', ')}, admitted ${r.admits.join(', ')}`);
  }
});

/** The rule broken on purpose: a drop is taken as done the moment it is asked for, before the map has it. */
class EagerDrop extends InSyncSet {
  override tick(now: number): InSyncAction[] {
    const actions = super.tick(now);
    return [...actions, ...actions.flatMap((a) => (a.kind === 'drop' ? super.dropped(a.replica) : []))];
  }
}

test('the seeded check can fail: a machine that releases before the map took a drop is caught', (t) => {
  const caught = Array.from({ length: 20 }, (_, i) => simulate(i + 1, (ids, lagBoundMs) => new EagerDrop(ids, { lagBoundMs }))).filter((r) => r.violations.some((v) => v.includes("in the map's in-sync set")));
  t.log(`caught in ${caught.length} of 20 seeds`);
  t.true(caught.length >= 15, `caught in ${caught.length} of 20 seeds`);
});

test('a new replica counts once within admitWithin of the owner and is admitted once it has what was released by then', (t) => {
  const set = new InSyncSet([], { lagBoundMs: 100, admitWithin: 2 });
  set.addOut('b');
  t.deepEqual(set.committed(10, 0), [{ kind: 'release', upTo: 10 }], 'an out replica holds nothing back');
  t.deepEqual(set.acked('b', 5), [], 'five behind: still out');
  t.deepEqual(set.acked('b', 8), [], 'within two: it counts from now on, but lacks 9 and 10, released before');
  t.deepEqual(set.counted(), ['b']);
  t.deepEqual(set.committed(11, 10), [], 'releases wait for it now');
  t.deepEqual(set.acked('b', 11), [{ kind: 'admit', replica: 'b' }, { kind: 'release', upTo: 11 }]);
  t.deepEqual(set.remove('b'), []);
  t.deepEqual(set.committed(12, 20), [{ kind: 'release', upTo: 12 }], 'a replica taken off the map holds nothing back');
});

test('a joining replica that lags past the bound stops counting without a map change', (t) => {
  const set = new InSyncSet([], { lagBoundMs: 100, admitWithin: 5 });
  set.addOut('b');
  set.committed(3, 0);
  set.acked('b', 1);
  t.deepEqual(set.committed(4, 10), []);
  t.deepEqual(set.tick(200), [{ kind: 'release', upTo: 4 }], 'no drop asked: it was never in the map set');
  t.deepEqual(set.counted(), []);
});

test('an in-sync replica the owner lets go (one more than R - 1 in sync) counts until the map took the drop, and may come back', (t) => {
  const set = new InSyncSet(['b', 'c'], { lagBoundMs: 1000 });
  set.committed(2, 0);
  set.acked('b', 2);
  t.deepEqual(set.letGo('c'), [{ kind: 'drop', replica: 'c', lagMs: 0 }]);
  t.deepEqual(set.letGo('c'), [], 'asked once');
  t.is(set.released, 0, 'c is still in the map\'s set: nothing it lacks is released');
  t.deepEqual(set.dropped('c'), [{ kind: 'release', upTo: 2 }]);
  t.deepEqual(set.counted(), ['b']);
  t.deepEqual(set.letGo('d'), [], 'not a replica: nothing');
  t.deepEqual(set.acked('c', 2), [{ kind: 'admit', replica: 'c' }], 'still listed and level: admitted again (the map decides whether it stays)');
});
