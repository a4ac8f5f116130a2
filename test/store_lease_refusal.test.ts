// The FENCED message of an actor without a lease (store/cluster/lease_refusal.ts): it names the members it waits for,
// and for dead ones the commands that end the wait, since retrying alone never helps then.
import test from 'ava';
import { WriteLease } from '../store/cluster/lease.js';
import { noLeaseMessage } from '../store/cluster/lease_refusal.js';

test('a lapsed lease names the missing members and, for dead ones, the takeover and forget commands', (t) => {
  const lease = new WriteLease(500, { now: () => 10000 });
  lease.memberChanged('b', 'dead');
  const states: Record<string, string> = { b: 'dead' };
  const msg = noLeaseMessage('a', 'tcp://127.0.0.1:5000', 'write', lease, (id) => states[id]);
  t.regex(msg, /b \(dead\)/);
  t.regex(msg, /`dbslm store takeover b --connect tcp:\/\/127\.0\.0\.1:5000`/);
  t.regex(msg, /`dbslm store forget b --connect tcp:\/\/127\.0\.0\.1:5000`/);
  states.b = 'suspect';
  const waiting = noLeaseMessage('a', 'tcp://127.0.0.1:5000', 'read', lease, (id) => states[id]);
  t.regex(waiting, /b \(suspect\)/);
  t.notRegex(waiting, /forget/, 'a member that may come back is no reason to forget it');
});
