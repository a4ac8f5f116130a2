// Unit tests of the source machine of fork moves (store/cluster/moves/source_machine.ts), one event at a time: the
// phases in order, failures before the intent (the source keeps the fork), the verification, and the resolution of a
// cut-over whose outcome is unknown. The machines against each other under faults: store_moves_machine.test.ts.
import test from 'ava';
import type { ChunkEntry, ForkChunk } from '../schemas/fork_chunk.js';
import { SOURCE_TUNING, type SourceAction, type SourceEvent, type SourceTuning } from '../store/cluster/moves/source_events.js';
import { SourceMachine } from '../store/cluster/moves/source_machine.js';

const FORK = 'ab';
const TUNING: SourceTuning = { ...SOURCE_TUNING, chunkRows: 2, shortRoundRows: 2, maxCatchUpRounds: 3, leasePollMs: 20, leaseWaitMs: 40 };
const EMPTY = Buffer.alloc(0);
let nextKey = 0;
const rows = (n: number): ChunkEntry[] => Array.from({ length: n }, () => ({ key: Buffer.from(`k${nextKey++}`), kind: 1, data: Buffer.from('v') }));
const page = (n: number, done: boolean): ForkChunk => ({ fork: FORK, entries: rows(n), dedup: [], last: EMPTY, done });
const changes = (n: number): SourceEvent => ({ kind: 'tail-observed', chunk: { fork: FORK, entries: rows(n), dedup: [], last: EMPTY, done: false } });
const kinds = (actions: SourceAction[]) => actions.map((a) => a.kind);
const sent = (actions: SourceAction[]) => actions.flatMap((a) => (a.kind === 'send-chunk' ? [{ seq: a.seq, rows: a.chunk.entries.length }] : []));
const owned = { fork: FORK, owner: 's', epoch: 7 };

function started(): SourceMachine {
  const m = new SourceMachine(TUNING);
  m.handle({ kind: 'start', moveId: 'm1', fork: FORK, self: 's', to: 't', targetState: 'alive' });
  return m;
}

const DIGEST = { rows: 1, digest: 'd1' };

/** Runs a machine through a one-row snapshot, a short catch-up round and the fence to the verification. */
function atVerify(): SourceMachine {
  const m = started();
  m.handle({ kind: 'snapshot-read', chunk: page(1, true) });
  m.handle({ kind: 'chunk-acked', seq: 0 });
  m.handle({ kind: 'group-committed' });
  return m;
}

function atLease(): SourceMachine {
  const m = atVerify();
  m.handle({ kind: 'digest-computed', ...DIGEST });
  m.handle({ kind: 'verify-acked', ...DIGEST });
  return m;
}

function atCutOver(): SourceMachine {
  const m = atLease();
  m.handle({ kind: 'lease-checked', held: true, targetHeld: true, entry: owned, mapVersion: 9 });
  return m;
}

test('source: a move goes snapshot, catch-up rounds, fence, last tail, lease, cut-over, drop, in that order', (t) => {
  const m = new SourceMachine(TUNING);
  t.deepEqual(kinds(m.handle({ kind: 'start', moveId: 'm1', fork: FORK, self: 's', to: 't', targetState: 'alive' })), ['read-snapshot']);
  t.deepEqual(sent(m.handle({ kind: 'snapshot-read', chunk: page(2, false) })), [{ seq: 0, rows: 2 }]);
  m.handle(changes(3)); // written while the snapshot is read
  t.deepEqual(kinds(m.handle({ kind: 'chunk-acked', seq: 0 })), ['read-snapshot']);
  t.deepEqual(sent(m.handle({ kind: 'snapshot-read', chunk: page(1, true) })), [{ seq: 1, rows: 1 }]);
  t.is(m.phase, 'snapshot');
  // Catch-up round 1 forwards the 3 rows, as messages of at most 2.
  t.deepEqual(sent(m.handle({ kind: 'chunk-acked', seq: 1 })), [{ seq: 2, rows: 2 }]);
  t.is(m.phase, 'catch-up');
  t.deepEqual(sent(m.handle({ kind: 'chunk-acked', seq: 2 })), [{ seq: 3, rows: 1 }]);
  m.handle(changes(1));
  // 3 rows >= 2: another round, which brings 1 row: short, so fence and wait for the open group commit.
  t.deepEqual(sent(m.handle({ kind: 'chunk-acked', seq: 3 })), [{ seq: 4, rows: 1 }]);
  t.deepEqual(kinds(m.handle({ kind: 'chunk-acked', seq: 4 })), ['fence', 'await-group-commit']);
  m.handle(changes(1)); // committed in the group that was open when the fence went up
  t.deepEqual(sent(m.handle({ kind: 'group-committed' })), [{ seq: 5, rows: 1 }]);
  t.is(m.phase, 'last-tail');
  // Fenced, everything forwarded: the rows here no longer change, and the target must hold the same.
  t.deepEqual(kinds(m.handle({ kind: 'chunk-acked', seq: 5 })), ['compute-digest']);
  t.is(m.phase, 'verifying');
  t.deepEqual(m.handle({ kind: 'digest-computed', rows: 8, digest: 'abc' }), [
    { kind: 'send-verify', verify: { moveId: 'm1', fork: FORK, rows: 8, digest: 'abc' }, timeoutMs: TUNING.verifyTimeoutMs },
  ]);
  t.deepEqual(kinds(m.handle({ kind: 'verify-acked', rows: 8, digest: 'abc' })), ['check-lease']);
  const cutOver = m.handle({ kind: 'lease-checked', held: true, targetHeld: true, entry: owned, mapVersion: 9 });
  t.deepEqual(cutOver, [
    { kind: 'write-intent', intent: { kind: 'cut-over', moveId: 'm1', fork: FORK, to: 't', epoch: 10 } },
    { kind: 'send-cutover', cutOver: { moveId: 'm1', fork: FORK, from: 's', epoch: 10 }, timeoutMs: TUNING.cutOverTimeoutMs },
  ]);
  const entry = { fork: FORK, owner: 't', epoch: 10 };
  t.deepEqual(m.handle({ kind: 'cutover-acked' }), [
    { kind: 'adopt', entry },
    { kind: 'clear-intent' },
    { kind: 'broadcast', entries: [entry] },
    { kind: 'stop-watching' },
    { kind: 'drop-fork' },
  ]);
  t.deepEqual(m.handle({ kind: 'fork-dropped' }), [{ kind: 'unfence' }, { kind: 'succeed', epoch: 10, keys: 8, rounds: 3 }, { kind: 'finished' }]);
  t.is(m.phase, 'done');
});

test('source: acks of another sequence number, and repeated acks, change nothing', (t) => {
  const m = started();
  m.handle({ kind: 'snapshot-read', chunk: page(2, false) });
  t.deepEqual(m.handle({ kind: 'chunk-acked', seq: 5 }), []);
  t.deepEqual(m.handle({ kind: 'chunk-refused', seq: 5, code: 'BAD_REQUEST', message: 'x' }), []);
  t.deepEqual(kinds(m.handle({ kind: 'chunk-acked', seq: 0 })), ['read-snapshot']);
  t.deepEqual(m.handle({ kind: 'chunk-acked', seq: 0 }), []);
  t.deepEqual(m.handle({ kind: 'cutover-acked' }), []);
  t.is(m.phase, 'snapshot');
});

test('source: catch-up fences after maxCatchUpRounds even while writes keep pace', (t) => {
  const m = started();
  m.handle({ kind: 'snapshot-read', chunk: page(0, true) });
  let last: SourceAction[] = [];
  let seq = 0;
  for (let round = 0; round < 10 && !kinds(last).includes('fence'); round++) {
    m.handle(changes(2)); // every round brings 2 rows, which is not short
    last = m.handle({ kind: 'chunk-acked', seq: seq++ });
  }
  t.deepEqual(kinds(last), ['fence', 'await-group-commit']);
  t.is(seq, 1 + TUNING.maxCatchUpRounds);
});

test('source: a refused or unanswered chunk ends the move before any intent; the source keeps the fork, unfenced', (t) => {
  for (const failure of [{ kind: 'chunk-refused', seq: 0, code: 'BAD_REQUEST', message: 'no' }, { kind: 'chunk-unanswered', seq: 0 }] as const) {
    const m = started();
    m.handle({ kind: 'snapshot-read', chunk: page(1, true) });
    const actions = m.handle(failure);
    t.deepEqual(kinds(actions), ['send-abort', 'stop-watching', 'unfence', 'fail', 'finished']);
    t.like(actions[3], { kind: 'fail', reason: failure.kind });
  }
});

test('source: without the write lease within leaseWaitMs the move fails FENCED; a source that lost the fork never cuts over', (t) => {
  const m = atLease();
  t.deepEqual(m.handle({ kind: 'lease-checked', held: false, targetHeld: true, entry: owned, mapVersion: 9 }), [{ kind: 'set-timer', ms: 20 }]);
  t.deepEqual(m.handle({ kind: 'timer-fired' }), [{ kind: 'check-lease' }]);
  t.deepEqual(m.handle({ kind: 'lease-checked', held: false, targetHeld: true, entry: owned, mapVersion: 9 }), [{ kind: 'set-timer', ms: 20 }]);
  const gaveUp = m.handle({ kind: 'lease-checked', held: false, targetHeld: true, entry: owned, mapVersion: 9 });
  t.like(gaveUp.find((a) => a.kind === 'fail'), { reason: 'lease-lost', code: 'FENCED', retryable: true });
  t.true(kinds(gaveUp).includes('unfence'));

  const moved = atLease().handle({ kind: 'lease-checked', held: true, targetHeld: true, entry: { fork: FORK, owner: 'x', epoch: 8 }, mapVersion: 9 });
  t.like(moved.find((a) => a.kind === 'fail'), { reason: 'not-owner', code: 'MOVED' });
  t.false(kinds(moved).includes('write-intent'));
});

test('source: a target that holds other rows than the source is not cut over to; the source keeps the fork', (t) => {
  const failures = [
    { kind: 'verify-acked', rows: 1, digest: 'other' },
    { kind: 'verify-acked', rows: 2, digest: 'd1' },
    { kind: 'verify-refused', code: 'INTERNAL', message: 'digest differs' },
    { kind: 'verify-unanswered' },
  ] as const;
  const reasons = failures.map((failure) => {
    const m = atVerify();
    m.handle({ kind: 'digest-computed', ...DIGEST });
    const actions = m.handle(failure);
    t.deepEqual(kinds(actions), ['send-abort', 'stop-watching', 'unfence', 'fail', 'finished']);
    return actions.flatMap((a) => (a.kind === 'fail' ? [a.reason] : []))[0];
  });
  t.deepEqual(reasons, ['verify-mismatch', 'verify-mismatch', 'verify-refused', 'verify-unanswered']);
});

test('source: a refused cut-over clears the intent and keeps the fork', (t) => {
  const m = atCutOver();
  const actions = m.handle({ kind: 'cutover-refused', code: 'BAD_REQUEST', message: 'no import' });
  t.deepEqual(kinds(actions), ['clear-intent', 'send-abort', 'stop-watching', 'unfence', 'fail', 'finished']);
  t.like(actions[4], { reason: 'cutover-refused' });
});

test('source: the cut-over is resent on silence; then the fork stays fenced until the target tells it took the fork', (t) => {
  const m = atCutOver();
  t.deepEqual(kinds(m.handle({ kind: 'cutover-unanswered' })), ['send-cutover']);
  t.deepEqual(kinds(m.handle({ kind: 'cutover-unanswered' })), ['send-cutover']);
  const unknown = m.handle({ kind: 'cutover-unanswered' });
  t.deepEqual(kinds(unknown), ['stop-watching', 'fail', 'fence', 'send-abort']);
  t.like(unknown[1], { reason: 'cutover-unknown', retryable: true });
  t.is(m.phase, 'resolving');
  // Silence keeps it asking, fenced.
  t.deepEqual(m.handle({ kind: 'abort-unanswered' }), [{ kind: 'set-timer', ms: TUNING.resolveRetryMs }]);
  t.deepEqual(kinds(m.handle({ kind: 'timer-fired' })), ['send-abort']);
  t.deepEqual(kinds(m.handle({ kind: 'abort-acked' })), ['ask-target-entry']);
  t.deepEqual(kinds(m.handle({ kind: 'target-entry-unanswered' })), ['set-timer']);
  t.deepEqual(kinds(m.handle({ kind: 'timer-fired' })), ['send-abort']);
  t.deepEqual(kinds(m.handle({ kind: 'abort-acked' })), ['ask-target-entry']);
  const theirs = { fork: FORK, owner: 't', epoch: 10 };
  t.deepEqual(m.handle({ kind: 'target-entry', theirs, mine: owned }), [{ kind: 'adopt', entry: theirs }, { kind: 'clear-intent' }, { kind: 'drop-fork' }]);
  // The operator got its reply already: no second one.
  t.deepEqual(m.handle({ kind: 'fork-dropped' }), [{ kind: 'unfence' }, { kind: 'finished' }]);
});

test('source: restarted with an intent, it fences first; a target that did not take the fork leaves it with the source', (t) => {
  const m = new SourceMachine(TUNING);
  const intent = { kind: 'cut-over' as const, moveId: 'm1', fork: FORK, to: 't', epoch: 10 };
  t.deepEqual(m.handle({ kind: 'restart-with-intent', self: 's', intent }), [
    { kind: 'fence' },
    { kind: 'send-abort', abort: { moveId: 'm1', fork: FORK }, timeoutMs: TUNING.resolveTimeoutMs },
  ]);
  m.handle({ kind: 'abort-acked' });
  t.deepEqual(m.handle({ kind: 'target-entry', theirs: owned, mine: owned }), [{ kind: 'clear-intent' }, { kind: 'unfence' }, { kind: 'finished' }]);
});

test('source: a target that took the fork and gave it back meanwhile leaves the rows here', (t) => {
  const m = atCutOver();
  for (let i = 0; i < TUNING.cutOverAttempts; i++) m.handle({ kind: 'cutover-unanswered' });
  m.handle({ kind: 'abort-acked' });
  const back = { fork: FORK, owner: 's', epoch: 11 };
  t.deepEqual(m.handle({ kind: 'target-entry', theirs: { fork: FORK, owner: 't', epoch: 10 }, mine: back }), [
    { kind: 'adopt', entry: { fork: FORK, owner: 't', epoch: 10 } },
    { kind: 'clear-intent' },
    { kind: 'unfence' },
    { kind: 'finished' },
  ]);
});

test('source: a move to itself or to a dead member is refused at once; a suspect member may only be slow', (t) => {
  const self = new SourceMachine(TUNING).handle({ kind: 'start', moveId: 'm', fork: FORK, self: 's', to: 's', targetState: 'alive' });
  t.like(self[0], { kind: 'fail', reason: 'target-is-self', code: 'BAD_REQUEST' });
  const dead = new SourceMachine(TUNING).handle({ kind: 'start', moveId: 'm', fork: FORK, self: 's', to: 't', targetState: 'dead' });
  t.like(dead[0], { kind: 'fail', reason: 'target-not-alive', retryable: true });
  t.false(kinds([...self, ...dead]).includes('read-snapshot'));
  const suspect = new SourceMachine(TUNING).handle({ kind: 'start', moveId: 'm', fork: FORK, self: 's', to: 't', targetState: 'suspect' });
  t.deepEqual(kinds(suspect), ['read-snapshot']);
});

test('source: an IO failure after the intent was written resolves the outcome instead of unfencing', (t) => {
  const m = atCutOver();
  const actions = m.handle({ kind: 'io-failed', message: 'disk full' });
  t.deepEqual(kinds(actions), ['stop-watching', 'fail', 'fence', 'send-abort']);
  t.false(kinds(actions).includes('unfence'));
});

test('source: the cut-over waits for the target\'s lease, so the fork is not FENCED at its new owner; without it in time the source keeps the fork', (t) => {
  const m = atLease();
  t.deepEqual(m.handle({ kind: 'lease-checked', held: true, targetHeld: false, entry: owned, mapVersion: 9 }), [{ kind: 'set-timer', ms: 20 }]);
  t.deepEqual(m.handle({ kind: 'timer-fired' }), [{ kind: 'check-lease' }]);
  t.deepEqual(kinds(m.handle({ kind: 'lease-checked', held: true, targetHeld: true, entry: owned, mapVersion: 9 })), ['write-intent', 'send-cutover']);

  const never = atLease();
  never.handle({ kind: 'lease-checked', held: true, targetHeld: false, entry: owned, mapVersion: 9 });
  never.handle({ kind: 'lease-checked', held: true, targetHeld: false, entry: owned, mapVersion: 9 });
  const gaveUp = never.handle({ kind: 'lease-checked', held: true, targetHeld: false, entry: owned, mapVersion: 9 });
  t.like(gaveUp.find((a) => a.kind === 'fail'), { reason: 'target-no-lease', code: 'FENCED', retryable: true });
  t.deepEqual(kinds(gaveUp), ['send-abort', 'stop-watching', 'unfence', 'fail', 'finished']);

  const silent = atLease().handle({ kind: 'lease-checked', held: true, targetHeld: null, entry: owned, mapVersion: 9 });
  t.like(silent.find((a) => a.kind === 'fail'), { reason: 'target-no-lease', retryable: true });
  t.false(kinds(silent).includes('write-intent'), 'a target that does not answer gets no cut-over');
});

test('source: a handover to an in-sync replica sends no rows, waits for the replicas, and leaves the source a replica in the target\'s place', (t) => {
  const m = new SourceMachine(TUNING);
  const entry = { fork: FORK, owner: 's', epoch: 7, replicas: ['t', 'u'], inSync: ['t', 'u'] };
  t.deepEqual(kinds(m.handle({ kind: 'start', moveId: 'h1', fork: FORK, self: 's', to: 't', targetState: 'alive', handover: true })), ['fence', 'await-group-commit']);
  t.deepEqual(m.handle({ kind: 'group-committed' }), [{ kind: 'await-replicas', timeoutMs: TUNING.replicaWaitMs }]);
  t.deepEqual(kinds(m.handle({ kind: 'replicas-caught-up', place: { term: 5, seq: 42 } })), ['compute-digest']);
  t.like(m.handle({ kind: 'digest-computed', ...DIGEST })[0], { kind: 'send-verify', verify: { handover: true } });
  t.deepEqual(kinds(m.handle({ kind: 'verify-acked', ...DIGEST })), ['check-lease']);
  const cut = m.handle({ kind: 'lease-checked', held: true, targetHeld: true, entry, mapVersion: 9 });
  const handover = { term: 5, seq: 42, replicas: ['u', 's'], inSync: ['u', 's'] };
  t.deepEqual(cut[0], { kind: 'write-intent', intent: { kind: 'cut-over', moveId: 'h1', fork: FORK, to: 't', epoch: 10, handover } });
  t.like(cut[1], { kind: 'send-cutover', cutOver: { epoch: 10, handover: true, replicas: ['u', 's'], inSync: ['u', 's'] } });
  const done = m.handle({ kind: 'cutover-acked' });
  const after = { fork: FORK, owner: 't', epoch: 10, term: 10, replicas: ['u', 's'], inSync: ['u', 's'] };
  t.deepEqual(done.slice(0, 2), [{ kind: 'adopt', entry: after }, { kind: 'become-replica', term: 5, seq: 42 }]);
  t.deepEqual(kinds(done.slice(2)), ['clear-intent', 'broadcast', 'stop-watching', 'unfence', 'succeed', 'finished'], 'no drop: the rows stay as a replica\'s');
});

test('source: a handover gives up, keeping the fork, when the replicas do not catch up or the target left the in-sync set', (t) => {
  const start = () => {
    const m = new SourceMachine(TUNING);
    m.handle({ kind: 'start', moveId: 'h1', fork: FORK, self: 's', to: 't', targetState: 'alive', handover: true });
    m.handle({ kind: 'group-committed' });
    return m;
  };
  const lagging = start().handle({ kind: 'replicas-caught-up', place: null });
  t.deepEqual(kinds(lagging), ['send-abort', 'stop-watching', 'unfence', 'fail', 'finished']);
  t.like(lagging[3], { reason: 'replicas-lagging', code: 'FENCED', retryable: true });

  const m = start();
  m.handle({ kind: 'replicas-caught-up', place: { term: 5, seq: 42 } });
  m.handle({ kind: 'digest-computed', ...DIGEST });
  m.handle({ kind: 'verify-acked', ...DIGEST });
  const out = m.handle({ kind: 'lease-checked', held: true, targetHeld: true, entry: { fork: FORK, owner: 's', epoch: 8, replicas: ['t'], inSync: [] }, mapVersion: 9 });
  t.like(out.find((a) => a.kind === 'fail'), { reason: 'target-not-in-sync' });
  t.false(kinds(out).includes('write-intent'));
});

test('source: a handover whose cut-over outcome was unknown, resolved as taken, keeps the rows as a replica', (t) => {
  const m = new SourceMachine(TUNING);
  const intent = { kind: 'cut-over' as const, moveId: 'h1', fork: FORK, to: 't', epoch: 10, handover: { term: 5, seq: 42, replicas: ['s'], inSync: ['s'] } };
  t.deepEqual(kinds(m.handle({ kind: 'restart-with-intent', self: 's', intent })), ['fence', 'send-abort']);
  m.handle({ kind: 'abort-acked' });
  const theirs = { fork: FORK, owner: 't', epoch: 10, term: 10, replicas: ['s'], inSync: ['s'] };
  const out = m.handle({ kind: 'target-entry', theirs, mine: { fork: FORK, owner: 's', epoch: 7 } });
  t.deepEqual(kinds(out), ['adopt', 'clear-intent', 'become-replica', 'unfence', 'finished']);
  t.false(kinds(out).includes('drop-fork'));
});
