// Unit tests of the write lease (store/cluster/lease.ts) on a fake clock: the majority rule, expiry counted from
// the send time of acked pings, and a member that expects peers. How SWIM feeds it on a simulated network is in
// store_cluster_swim.test.ts; the fencing of a frozen actor with real processes in store_cluster_membership.test.ts.
import test from 'ava';
import type { MemberState } from '../schemas/fork_map.js';
import { WriteLease, leaseMsFor } from '../store/cluster/lease.js';

const LEASE_MS = 500;

class FakeClock {
  time = 0;
  now(): number {
    return this.time;
  }
}

/** A lease at time 0 with the given peers; `ack(peer)` pings it now and gets its ack straight back. */
function leaseWith(peers: Record<string, MemberState>) {
  const clock = new FakeClock();
  const lease = new WriteLease(LEASE_MS, clock);
  for (const [id, state] of Object.entries(peers)) lease.memberChanged(id, state);
  let seq = 0;
  const ack = (peer: string) => {
    lease.pingSent(peer, ++seq, clock.time);
    lease.ackReceived(peer, seq);
  };
  return { lease, clock, ack };
}

test('the lease lasts half the dead bound', (t) => {
  t.is(leaseMsFor(5000), 2500);
});

test('a lone member needs no acks', (t) => {
  const { lease } = leaseWith({});
  t.is(lease.quorum(), 1);
  t.true(lease.valid());
});

test('two members: the one peer must ack, alive or dead', (t) => {
  const { lease, ack } = leaseWith({ b: 'dead' });
  t.is(lease.quorum(), 2);
  t.false(lease.valid(), 'a dead peer still counts towards the quorum');
  ack('b');
  t.true(lease.valid());
});

test('three members: one ack of two peers is a majority, whichever peer gives it', (t) => {
  const { lease, ack } = leaseWith({ b: 'alive', c: 'dead' });
  t.is(lease.quorum(), 2);
  t.false(lease.valid());
  ack('c');
  t.true(lease.valid());
});

test('five members: two acks are needed, dead members count and left ones do not', (t) => {
  const { lease, ack } = leaseWith({ b: 'alive', c: 'suspect', d: 'dead', e: 'dead' });
  t.is(lease.quorum(), 3);
  ack('b');
  t.false(lease.valid(), 'b alone would be a majority only if the dead were not counted');
  ack('c');
  t.true(lease.valid());
  lease.memberChanged('c', 'left');
  lease.memberChanged('d', 'left');
  t.is(lease.quorum(), 2);
  t.true(lease.valid(), 'b is a majority of the three members left');
});

test('the lease ends exactly a lease after the send time of the acked ping, however late the ack came', (t) => {
  const { lease, clock } = leaseWith({ b: 'alive', c: 'alive' });
  clock.time = 100;
  lease.pingSent('b', 1, clock.time);
  clock.time = 450; // the ack took 350 ms (a freeze, a slow peer)
  lease.ackReceived('b', 1);
  t.true(lease.valid());
  t.true(lease.valid(100 + LEASE_MS - 0.001));
  t.false(lease.valid(100 + LEASE_MS));
  clock.time = 100 + LEASE_MS;
  t.false(lease.valid());
});

test('an ack for an old ping does not extend the lease past that ping', (t) => {
  const { lease, clock } = leaseWith({ b: 'alive' });
  lease.pingSent('b', 1, 0);
  lease.pingSent('b', 2, 300);
  clock.time = 320;
  lease.ackReceived('b', 1); // the answer to the first ping, arriving after the second went out
  t.true(lease.valid(LEASE_MS - 1));
  t.false(lease.valid(LEASE_MS), 'counted from the ack or the newest ping instead of the acked ping');
});

test('an ack for an old ping arriving after a newer one does not shorten the lease', (t) => {
  const { lease } = leaseWith({ b: 'alive' });
  lease.pingSent('b', 1, 0);
  lease.pingSent('b', 2, 300);
  lease.ackReceived('b', 2);
  lease.ackReceived('b', 1);
  t.true(lease.valid(300 + LEASE_MS - 1));
  t.false(lease.valid(300 + LEASE_MS));
});

test('only the pinged member itself can ack a ping, and only a ping that was sent', (t) => {
  const { lease } = leaseWith({ b: 'alive', c: 'alive', d: 'alive' });
  lease.pingSent('b', 1, 0);
  lease.ackReceived('c', 1);
  lease.ackReceived('c', 7);
  lease.ackReceived('b', 1);
  t.false(lease.valid(), 'c acked a ping that went to b, or one never sent: with b that made two of three');
  lease.pingSent('c', 2, 0);
  lease.ackReceived('c', 2);
  t.true(lease.valid());
});

test('a member that expects peers holds no lease until one acks it', (t) => {
  const { lease, ack } = leaseWith({});
  lease.expectPeers = true;
  t.false(lease.valid(), 'a restarted member that knows no peer yet is not alone');
  lease.memberChanged('b', 'alive');
  t.false(lease.valid(), 'joined, not yet acked');
  ack('b');
  t.true(lease.valid());
});

test('the lease names the peers whose acks are too old, and its expiry follows every ack and member change', (t) => {
  const { lease, clock, ack } = leaseWith({ b: 'alive', c: 'alive' });
  t.deepEqual(lease.missing(), ['b', 'c']);
  ack('b');
  t.true(lease.valid());
  t.deepEqual(lease.missing(), ['c']);
  clock.time = LEASE_MS;
  t.false(lease.valid());
  t.deepEqual(lease.missing(), ['b', 'c']);
  ack('c');
  t.true(lease.valid(), 'a new ack renews an expiry computed before it');
  lease.memberChanged('d', 'dead');
  lease.memberChanged('e', 'dead');
  t.false(lease.valid(), 'two more members: one ack of four peers is no majority');
  lease.memberChanged('d', 'left');
  lease.memberChanged('e', 'left');
  t.true(lease.valid(), 'forgotten members no longer count');
  t.is(lease.memberCount(), 3);
});
