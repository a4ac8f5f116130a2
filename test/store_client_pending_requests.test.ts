// Unit tests of the pure parts of a request channel (store/client/request_channel.ts): the table of pending
// requests with its deadlines, on a fake clock, and how queued requests are cut into bundles.
import test from 'ava';
import { PendingRequests, type PendingRequest } from '../store/client/pending_requests.js';
import { takeBundle } from '../store/client/request_channel.js';

function request(cmd: string, deadline: number): PendingRequest {
  return { cmd, deadline, timeoutMs: deadline, resolve: () => {}, reject: () => {} };
}

test('a reply settles its own request once; a late reply and id 0 settle nothing', (t) => {
  const pending = new PendingRequests();
  pending.add(1, request('get', 100));
  pending.add(2, request('set', 100));
  t.is(pending.settle(2)?.cmd, 'set');
  t.is(pending.settle(2), undefined, 'settled twice');
  t.is(pending.settle(0), undefined);
  t.is(pending.size, 1);
  t.is(pending.settle(1)?.cmd, 'get');
  t.is(pending.size, 0);
});

test('requests expire exactly at their deadline, each at its own', (t) => {
  const pending = new PendingRequests();
  pending.add(1, request('slow', 500));
  pending.add(2, request('fast', 100));
  t.deepEqual(pending.expire(99.9), []);
  t.deepEqual(pending.expire(100).map((r) => r.cmd), ['fast']);
  t.deepEqual(pending.expire(499).map((r) => r.cmd), []);
  t.is(pending.settle(2), undefined, 'an expired request still took a reply');
  t.deepEqual(pending.expire(500).map((r) => r.cmd), ['slow']);
  t.is(pending.size, 0);
});

test('the oldest pending request is the first one sent that still waits', (t) => {
  const pending = new PendingRequests();
  t.is(pending.oldestSentAt(), Infinity);
  pending.add(1, { ...request('a', 1100), timeoutMs: 1000 });
  pending.add(2, { ...request('b', 5200), timeoutMs: 5000 });
  t.is(pending.oldestSentAt(), 100);
  pending.settle(1);
  t.is(pending.oldestSentAt(), 200);
});

test('drain hands over every pending request and leaves none', (t) => {
  const pending = new PendingRequests();
  for (let id = 1; id <= 3; id++) pending.add(id, request(`r${id}`, 100));
  t.deepEqual(pending.drain().map((r) => r.cmd), ['r1', 'r2', 'r3']);
  t.is(pending.size, 0);
  t.deepEqual(pending.expire(Infinity), []);
});

test('a bundle holds at most the request limit, in queue order, back to back', (t) => {
  const queue = Array.from({ length: 300 }, (_, i) => Buffer.from([i % 256, 0xaa]));
  const first = takeBundle(queue, 128);
  t.is(first.length, 256);
  t.deepEqual([first[0], first[2], first[254]], [0, 1, 127]);
  t.is(queue.length, 172);
  t.is(takeBundle(queue, 128).length, 256);
  t.is(takeBundle(queue, 128).length, 88);
  t.is(queue.length, 0);
});

test('a bundle stops growing past 4 MiB, and a request of any size leaves alone', (t) => {
  const MiB = 1024 * 1024;
  const queue = [Buffer.alloc(3 * MiB), Buffer.alloc(2 * MiB), Buffer.alloc(100), Buffer.alloc(9 * MiB), Buffer.alloc(1)];
  t.is(takeBundle(queue, 128).length, 5 * MiB, 'the second request starts before the limit, so it joins');
  t.is(takeBundle(queue, 128).length, 9 * MiB + 100);
  t.is(takeBundle(queue, 128).length, 1);
  const single = [Buffer.from('a'), Buffer.from('b')];
  t.deepEqual(takeBundle(single, 1), Buffer.from('a'), 'a channel that does not bundle sends one request per message');
  t.is(single.length, 1);
});
