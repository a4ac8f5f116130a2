// The ownership-history checker used by the acceptance tests must itself catch a double owner.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { ForkMap } from '../store/map/fork_map.js';
import { OwnershipHistory, ownershipConflicts } from '../store/map/ownership_history.js';
import { tempDir } from './helpers/temp_dir.js';

test('histories record each adopted (fork, epoch, owner) once and the checker finds two owners in one epoch', (t) => {
  const dir = tempDir('dbslm-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const h = new OwnershipHistory(dir);
  const m1 = ForkMap.initial('a');
  h.observe(m1, 'start');
  h.observe(m1, 'again');
  const m2 = m1.assign('3f', 'b');
  h.observe(m2, 'move');
  const rows = new OwnershipHistory(dir).rows();
  t.is(rows.length, 257);
  t.deepEqual(rows.at(-1), { ...rows.at(-1)!, fork: '3f', epoch: 2, owner: 'b', reason: 'move' });

  const other = [{ fork: '3f', epoch: 2, owner: 'c', atMs: 0, reason: 'gossip' }];
  t.deepEqual(ownershipConflicts([rows, other]), [{ fork: '3f', epoch: 2, owners: ['b', 'c'] }]);
  t.deepEqual(ownershipConflicts([rows, rows]), []);
  // A not-yet-joined member's placeholder owner '' owns nothing.
  t.deepEqual(ownershipConflicts([rows, [{ fork: '3f', epoch: 2, owner: '', atMs: 0, reason: 'start' }]]), []);
});
