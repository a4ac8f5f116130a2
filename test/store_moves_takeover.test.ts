// Unit tests of forced moves (store/cluster/moves/takeover_machine.ts): only of a dead owner's fork, fenced until a
// quorum adopted the new entry and a lease period passed, resumable, and kept fenced across a restart.
import test from 'ava';
import { TakeoverMachine } from '../store/cluster/moves/takeover_machine.js';

const FORK = 'ab';
const dead = { fork: FORK, owner: 'x', epoch: 7 };

test('takeover: only of a dead owner, and not of a fork this actor owns', (t) => {
  const alive = new TakeoverMachine(500).handle({ kind: 'start', fork: FORK, self: 't', entry: dead, ownerState: 'alive', pending: false });
  t.like(alive[0], { kind: 'fail', reason: 'owner-not-dead', code: 'BAD_REQUEST' });
  const mine = new TakeoverMachine(500).handle({ kind: 'start', fork: FORK, self: 't', entry: { ...dead, owner: 't' }, ownerState: 'alive', pending: false });
  t.like(mine[0], { kind: 'fail', reason: 'already-owner' });
});

test('takeover: fence, intent, drop, adopt at version + 1, a quorum, one lease period, then unfence', (t) => {
  const m = new TakeoverMachine(500);
  t.deepEqual(m.handle({ kind: 'start', fork: FORK, self: 't', entry: dead, ownerState: 'dead', pending: false }), [
    { kind: 'fence' },
    { kind: 'write-intent', intent: { kind: 'takeover', fork: FORK } },
    { kind: 'drop-fork' },
  ]);
  const entry = { fork: FORK, owner: 't', epoch: 13 };
  t.deepEqual(m.handle({ kind: 'fork-dropped', mapVersion: 12 }), [{ kind: 'adopt', entry }, { kind: 'broadcast', entries: [entry] }]);
  t.deepEqual(m.handle({ kind: 'broadcast-acked', adopted: 1, quorum: 2 }), [{ kind: 'set-timer', ms: 600 }]);
  t.deepEqual(m.handle({ kind: 'timer-fired' }), [{ kind: 'clear-intent' }, { kind: 'unfence' }, { kind: 'succeed', from: 'x', epoch: 13 }, { kind: 'finished' }]);
});

test('takeover: without a quorum the fork stays fenced; a re-run resumes and a restart keeps the fence', (t) => {
  const m = new TakeoverMachine(500);
  m.handle({ kind: 'start', fork: FORK, self: 't', entry: dead, ownerState: 'dead', pending: false });
  m.handle({ kind: 'fork-dropped', mapVersion: 12 });
  const short = m.handle({ kind: 'broadcast-acked', adopted: 0, quorum: 2 });
  t.like(short[0], { kind: 'fail', reason: 'no-quorum', retryable: true });
  t.false(short.some((a) => a.kind === 'unfence' || a.kind === 'clear-intent'));

  const adopted = { fork: FORK, owner: 't', epoch: 13 };
  const rerun = new TakeoverMachine(500);
  t.deepEqual(rerun.handle({ kind: 'start', fork: FORK, self: 't', entry: adopted, ownerState: 'dead', pending: true }), [{ kind: 'fence' }, { kind: 'broadcast', entries: [adopted] }]);
  t.deepEqual(rerun.handle({ kind: 'broadcast-acked', adopted: 1, quorum: 2 }), [{ kind: 'set-timer', ms: 600 }]);

  const intent = { kind: 'takeover' as const, fork: FORK };
  t.deepEqual(new TakeoverMachine(500).handle({ kind: 'restart-with-intent', self: 't', intent, entry: adopted }), [{ kind: 'fence' }, { kind: 'finished' }]);
  // An intent written before the entry was adopted protects nothing: cleared, not fenced.
  t.deepEqual(new TakeoverMachine(500).handle({ kind: 'restart-with-intent', self: 't', intent, entry: dead }), [{ kind: 'clear-intent' }, { kind: 'finished' }]);
});
