// Unit tests of the target machine of fork moves (store/cluster/moves/target_machine.ts): chunks and their sequence
// numbers, verification, cut-overs and aborts, one request at a time.
import test from 'ava';
import type { ChunkEntry } from '../schemas/fork_chunk.js';
import { TargetMachine } from '../store/cluster/moves/target_machine.js';

const FORK = 'ab';
const EMPTY = Buffer.alloc(0);
const DIGEST = { rows: 1, digest: 'd1' };
let nextKey = 0;
const rows = (n: number): ChunkEntry[] => Array.from({ length: n }, () => ({ key: Buffer.from(`k${nextKey++}`), kind: 1, data: Buffer.from('v') }));
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
  t.deepEqual(m.handle({ kind: 'verify', request: { moveId: 'm1', fork: FORK, ...DIGEST }, local: DIGEST }), [{ kind: 'ack' }]);
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

test('target: verification compares its own rows with those of the source; a cut-over needs every imported chunk verified', (t) => {
  const m = new TargetMachine('t');
  const cutOver = { moveId: 'm1', fork: FORK, from: 's', epoch: 10 };
  const before = { fork: FORK, owner: 's', epoch: 9 };
  const verify = { moveId: 'm1', fork: FORK, ...DIGEST };
  m.handle({ kind: 'chunk', request: chunkOf('m1', 1, 0), ownsFork: false, handingOver: false });
  t.like(m.handle({ kind: 'cutover', request: cutOver, current: before }), [{ kind: 'refuse', reason: 'not-verified' }]);
  t.like(m.handle({ kind: 'verify', request: verify, local: { rows: 0, digest: 'd0' } }), [{ kind: 'refuse', reason: 'digest-mismatch' }]);
  t.like(m.handle({ kind: 'cutover', request: cutOver, current: before }), [{ kind: 'refuse', reason: 'not-verified' }]);
  t.deepEqual(m.handle({ kind: 'verify', request: verify, local: DIGEST }), [{ kind: 'ack' }]);
  // A chunk applied after the verification makes it stale.
  m.handle({ kind: 'chunk', request: chunkOf('m1', 1, 1), ownsFork: false, handingOver: false });
  t.like(m.handle({ kind: 'cutover', request: cutOver, current: before }), [{ kind: 'refuse', reason: 'not-verified' }]);
  t.like(m.handle({ kind: 'verify', request: { ...verify, moveId: 'm9' }, local: DIGEST }), [{ kind: 'refuse', reason: 'unknown-move' }]);
});

test('target: a cut-over to an epoch it already passed is refused', (t) => {
  const m = new TargetMachine('t');
  m.handle({ kind: 'chunk', request: chunkOf('m1', 1), ownsFork: false, handingOver: false });
  m.handle({ kind: 'verify', request: { moveId: 'm1', fork: FORK, ...DIGEST }, local: DIGEST });
  const refused = m.handle({ kind: 'cutover', request: { moveId: 'm1', fork: FORK, from: 's', epoch: 10 }, current: { fork: FORK, owner: 's', epoch: 10 } });
  t.like(refused[0], { kind: 'refuse', reason: 'stale-epoch' });
});

test('target: a handover to this replica verifies its own rows, takes the fork with the replicas it is sent, and an abort drops nothing', (t) => {
  const m = new TargetMachine('t');
  const before = { fork: FORK, owner: 's', epoch: 9, replicas: ['t', 'u'], inSync: ['t', 'u'] };
  const cutOver = { moveId: 'h1', fork: FORK, from: 's', epoch: 10, handover: true, replicas: ['u', 's'], inSync: ['u', 's'] };
  const verify = { moveId: 'h1', fork: FORK, ...DIGEST, handover: true };
  t.like(m.handle({ kind: 'cutover', request: cutOver, current: before })[0], { kind: 'refuse', reason: 'unknown-move' }, 'not verified: unknown');
  t.like(m.handle({ kind: 'verify', request: verify, local: { rows: 2, digest: 'd2' } }), [{ kind: 'refuse', reason: 'digest-mismatch' }], 'its rows as a replica differ from the owner\'s');
  t.like(m.handle({ kind: 'cutover', request: cutOver, current: before }), [{ kind: 'refuse', reason: 'not-verified' }]);
  t.deepEqual(m.handle({ kind: 'abort', request: { moveId: 'h1', fork: FORK } }), [{ kind: 'ack' }], 'an aborted handover leaves the replica\'s rows');

  t.deepEqual(m.handle({ kind: 'verify', request: { ...verify, moveId: 'h2' }, local: DIGEST }), [{ kind: 'ack' }]);
  const adopted = { fork: FORK, owner: 't', epoch: 10, term: 10, replicas: ['u', 's'], inSync: ['u', 's'] };
  t.deepEqual(m.handle({ kind: 'cutover', request: { ...cutOver, moveId: 'h2' }, current: before }), [{ kind: 'adopt', entry: adopted }, { kind: 'ack' }]);
  t.deepEqual(m.handle({ kind: 'cutover', request: { ...cutOver, moveId: 'h2' }, current: adopted }), [{ kind: 'ack' }], 'resent: idempotent');

  m.handle({ kind: 'verify', request: { ...verify, moveId: 'h4' }, local: { rows: 2, digest: 'd2' } }); // refused, and its source gone
  t.deepEqual(m.handle({ kind: 'verify', request: { ...verify, moveId: 'h5' }, local: DIGEST }), [{ kind: 'ack' }], 'a handover left unfinished does not block the next');
  t.like(m.handle({ kind: 'cutover', request: { ...cutOver, moveId: 'h4', epoch: 11 }, current: adopted })[0], { kind: 'refuse', reason: 'unknown-move' }, 'nor is it cut over late');

  const importing = new TargetMachine('t');
  importing.handle({ kind: 'chunk', request: chunkOf('m1', 1), ownsFork: false, handingOver: false });
  t.like(importing.handle({ kind: 'verify', request: { ...verify, moveId: 'h3' }, local: DIGEST }), [{ kind: 'refuse', reason: 'unknown-move' }], 'rows of a live move\'s import are no replica\'s');
});
