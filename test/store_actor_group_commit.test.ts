// The group commit's turn rule on a real ForkDb and ROUTER socket: the actor's receive loop is told to give the
// event loop a turn after an early commit whose replies wait for replicas, and at least every 10 ms whatever
// happens, so that timers and I/O (gossip, the member's lease, replicas' acks) run under a flood of requests.
import test from 'ava';
import zmq from 'zeromq';
import { ChangeLog } from '../store/actor/change_log.js';
import { ForkDb } from '../store/actor/fork_db.js';
import { GroupCommit } from '../store/actor/group_commit.js';
import { IncrQueue } from '../store/actor/incr_queue.js';
import { ReplySender } from '../store/actor/reply_sender.js';
import { tmpDir } from './helpers/store_procs.js';

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

function groupCommit(t: { teardown: (fn: () => void) => void }): GroupCommit {
  const db = new ForkDb(tmpDir(), 'normal');
  const router = new zmq.Router();
  t.teardown(() => (router.close(), db.close()));
  const changeLog = new ChangeLog();
  return new GroupCommit(db, new IncrQueue(db, changeLog), changeLog, new ReplySender(router));
}

test('commitIfDue asks for a turn at least every 10 ms of messages, and after an early commit whose replies wait for replicas', (t) => {
  const group = groupCommit(t);
  // Each `false` is asked right after a call that yielded or started the clock (a loaded machine may pause
  // anywhere for more than 10 ms, which the rule rightly answers with a turn).
  group.commitIfDue(1);
  t.false(group.commitIfDue(1), 'small messages right after a turn: no turn');
  busy(12);
  t.true(group.commitIfDue(1), 'no turn for 12 ms: a turn');
  t.false(group.commitIfDue(1), 'the loop yielded just now');
  group.begin();
  group.commitIfDue(1);
  t.false(group.commitIfDue(64), 'an early commit at R = 1 (no barrier): no turn of its own');
  let release: (v: null) => void = () => undefined;
  group.replyBarrier = () => new Promise((resolve) => (release = resolve));
  group.begin();
  t.true(group.commitIfDue(64), 'an early commit whose replies wait for replicas: a turn');
  release(null);
  group.begin();
  t.false(group.commitIfDue(1), 'not due: the last commit that waited does not count again');
  group.commit();
});
