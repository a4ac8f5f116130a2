// The FENCED message of an actor without a lease (store/cluster/lease_refusal.ts): it names the members it waits for,
// and for dead ones the commands that end the wait, since retrying alone never helps then.
import test from 'ava';
import { WriteLease } from '../store/cluster/lease.js';
import { noLeaseMessage } from '../store/cluster/lease_refusal.js';

const holder = { id: 'a', endpoint: 'tcp://127.0.0.1:5000', forgotten: false };

test('a lapsed lease names the missing members and, for dead ones, the forget and takeover commands', (t) => {
  const lease = new WriteLease(500, { now: () => 10000 });
  lease.memberChanged('b', 'dead');
  const states: Record<string, string> = { b: 'dead' };
  const msg = noLeaseMessage(holder, 'write', lease, (id) => states[id]);
  t.regex(msg, /b \(dead\)/);
  t.regex(msg, /`dbslm store forget b --force --connect tcp:\/\/127\.0\.0\.1:5000`/);
  t.regex(msg, /`dbslm store takeover b --connect tcp:\/\/127\.0\.0\.1:5000`/);
  states.b = 'suspect';
  const waiting = noLeaseMessage(holder, 'read', lease, (id) => states[id]);
  t.regex(waiting, /b \(suspect\)/);
  t.notRegex(waiting, /forget/, 'a member that may come back is no reason to forget it');
});

test('a forgotten member says so and how to rejoin', (t) => {
  const lease = new WriteLease(500, { now: () => 10000 });
  lease.revoke();
  t.false(lease.valid());
  t.regex(noLeaseMessage({ ...holder, forgotten: true }, 'read', lease, () => undefined), /forgotten.*new --id/);
});
