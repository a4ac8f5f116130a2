// Unit tests of the pure move machines (store/cluster/moves/*_machine.ts), one event at a time: the source's phases
// in order, its failures before and after the intent, the resolution of an unknown cut-over; the target's handling
// of chunks, cut-overs and aborts; forced takeovers. The machines driven against each other under faults are in
// store_moves_sim.test.ts; real processes in store_cluster_moves.test.ts.
import test from 'ava';
import type { ChunkEntry, ForkChunk } from '../schemas/fork_chunk.js';
import { SOURCE_TUNING, SourceMachine, type SourceAction, type SourceEvent, type SourceTuning } from '../store/cluster/moves/source_machine.js';
import { TakeoverMachine } from '../store/cluster/moves/takeover_machine.js';
import { TargetMachine } from '../store/cluster/moves/target_machine.js';

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

/** Runs a machine through the snapshot (one page of `snapshotRows`) and short catch-up rounds to the lease check. */
function atLease(snapshotRows = 1): SourceMachine {
  const m = started();
  m.handle({ kind: 'snapshot-read', chunk: page(snapshotRows, true) });
  m.handle({ kind: 'chunk-acked', seq: 0 });
  m.handle({ kind: 'group-committed' });
  return m;
}

function atCutOver(): SourceMachine {
  const m = atLease();
  m.handle({ kind: 'lease-checked', held: true, entry: owned, mapVersion: 9 });
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
  t.deepEqual(kinds(m.handle({ kind: 'chunk-acked', seq: 5 })), ['check-lease']);
  const cutOver = m.handle({ kind: 'lease-checked', held: true, entry: owned, mapVersion: 9 });
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
  t.deepEqual(m.handle({ kind: 'lease-checked', held: false, entry: owned, mapVersion: 9 }), [{ kind: 'set-timer', ms: 20 }]);
  t.deepEqual(m.handle({ kind: 'timer-fired' }), [{ kind: 'check-lease' }]);
  t.deepEqual(m.handle({ kind: 'lease-checked', held: false, entry: owned, mapVersion: 9 }), [{ kind: 'set-timer', ms: 20 }]);
  const gaveUp = m.handle({ kind: 'lease-checked', held: false, entry: owned, mapVersion: 9 });
  t.like(gaveUp.find((a) => a.kind === 'fail'), { reason: 'lease-lost', code: 'FENCED', retryable: true });
  t.true(kinds(gaveUp).includes('unfence'));

  const moved = atLease().handle({ kind: 'lease-checked', held: true, entry: { fork: FORK, owner: 'x', epoch: 8 }, mapVersion: 9 });
  t.like(moved.find((a) => a.kind === 'fail'), { reason: 'not-owner', code: 'MOVED' });
  t.false(kinds(moved).includes('write-intent'));
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

const chunkOf = (moveId: string, n: number, seq = 0, fork = FORK) => ({ moveId, fork, source: 's', seq, chunk: { fork, entries: rows(n), dedup: [], last: EMPTY, done: false } });

test('target: the first chunk of a move clears leftovers, later chunks of it only import, and a new move clears again', (t) => {
  const m = new TargetMachine('t');
  const tk = (moveId: string, seq: number) => m.handle({ kind: 'chunk', request: chunkOf(moveId, 1, seq), ownsFork: false, handingOver: false }).map((a) => a.kind);
  t.deepEqual(tk('m1', 0), ['drop-fork', 'import', 'ack']);
  t.deepEqual(tk('m1', 1), ['import', 'ack']);
  t.deepEqual(tk('m2', 0), ['drop-fork', 'import', 'ack']);
  t.is(m.importing(FORK), 'm2');
});

test('target: a chunk it cannot place (unknown move past its first chunk, or a gap) is refused, and nothing is dropped', (t) => {
  const restarted = new TargetMachine('t');
  const refused = restarted.handle({ kind: 'chunk', request: chunkOf('m1', 1, 3), ownsFork: false, handingOver: false });
  t.like(refused, [{ kind: 'refuse', reason: 'lost-place' }]);
  t.is(restarted.importing(FORK), undefined);

  const m = new TargetMachine('t');
  m.handle({ kind: 'chunk', request: chunkOf('m1', 1, 0), ownsFork: false, handingOver: false });
  t.like(m.handle({ kind: 'chunk', request: chunkOf('m1', 1, 2), ownsFork: false, handingOver: false }), [{ kind: 'refuse', reason: 'lost-place' }]);
  // Chunk 3 of another move while m1 is imported: refused, m1's import stays.
  t.like(m.handle({ kind: 'chunk', request: chunkOf('m2', 1, 3), ownsFork: false, handingOver: false }), [{ kind: 'refuse', reason: 'lost-place' }]);
  t.is(m.importing(FORK), 'm1');
  t.deepEqual(m.handle({ kind: 'chunk', request: chunkOf('m1', 1, 1), ownsFork: false, handingOver: false }).map((a) => a.kind), ['import', 'ack']);
});

test('target: a copy of a chunk it applied already is acknowledged without applying it again', (t) => {
  const m = new TargetMachine('t');
  for (const seq of [0, 1, 2]) m.handle({ kind: 'chunk', request: chunkOf('m1', 1, seq), ownsFork: false, handingOver: false });
  t.deepEqual(m.handle({ kind: 'chunk', request: chunkOf('m1', 1, 1), ownsFork: false, handingOver: false }), [{ kind: 'ack' }]);
  t.deepEqual(m.handle({ kind: 'chunk', request: chunkOf('m1', 1, 0), ownsFork: false, handingOver: false }), [{ kind: 'ack' }]);
});

test('target: refuses chunks of a fork it owns, or labelled with another fork', (t) => {
  const m = new TargetMachine('t');
  t.like(m.handle({ kind: 'chunk', request: chunkOf('m1', 1), ownsFork: true, handingOver: false })[0], { kind: 'refuse', reason: 'owns-fork' });
  const mislabelled = { ...chunkOf('m1', 1), fork: 'cd' };
  t.like(m.handle({ kind: 'chunk', request: mislabelled, ownsFork: false, handingOver: false })[0], { kind: 'refuse', reason: 'wrong-fork' });
  t.is(m.importing(FORK), undefined);
});

test('target: refuses chunks, retryably, while this actor still hands the fork over (its drop would wipe the import)', (t) => {
  const m = new TargetMachine('t');
  t.like(m.handle({ kind: 'chunk', request: chunkOf('m1', 1), ownsFork: false, handingOver: true })[0], { kind: 'refuse', reason: 'handing-over', code: 'FENCED', retryable: true });
  t.is(m.importing(FORK), undefined);
});

test('target: the cut-over is idempotent, and refused for a move it does not import (restarted) or after an abort', (t) => {
  const m = new TargetMachine('t');
  const cutOver = { moveId: 'm1', fork: FORK, from: 's', epoch: 10 };
  const before = { fork: FORK, owner: 's', epoch: 9 };
  t.like(m.handle({ kind: 'cutover', request: cutOver, current: before })[0], { kind: 'refuse', reason: 'unknown-move' });
  m.handle({ kind: 'chunk', request: chunkOf('m1', 1), ownsFork: false, handingOver: false });
  const adopted = { fork: FORK, owner: 't', epoch: 10 };
  t.deepEqual(m.handle({ kind: 'cutover', request: cutOver, current: before }), [{ kind: 'adopt', entry: adopted }, { kind: 'ack' }]);
  t.deepEqual(m.handle({ kind: 'cutover', request: cutOver, current: adopted }), [{ kind: 'ack' }]);
  // An abort of a move already cut over changes nothing.
  t.deepEqual(m.handle({ kind: 'abort', request: { moveId: 'm1', fork: FORK } }), [{ kind: 'ack' }]);

  const aborted = new TargetMachine('t');
  aborted.handle({ kind: 'chunk', request: chunkOf('m2', 1), ownsFork: false, handingOver: false });
  t.deepEqual(aborted.handle({ kind: 'abort', request: { moveId: 'm2', fork: FORK } }), [{ kind: 'drop-fork', fork: FORK }, { kind: 'ack' }]);
  t.like(aborted.handle({ kind: 'cutover', request: { ...cutOver, moveId: 'm2' }, current: before })[0], { kind: 'refuse', reason: 'unknown-move' });
});

test('target: a cut-over to an epoch it already passed is refused', (t) => {
  const m = new TargetMachine('t');
  m.handle({ kind: 'chunk', request: chunkOf('m1', 1), ownsFork: false, handingOver: false });
  const refused = m.handle({ kind: 'cutover', request: { moveId: 'm1', fork: FORK, from: 's', epoch: 10 }, current: { fork: FORK, owner: 's', epoch: 10 } });
  t.like(refused[0], { kind: 'refuse', reason: 'stale-epoch' });
});

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
