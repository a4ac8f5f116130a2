// Unit tests of forced takeovers (store/cluster/moves/takeover_machine.ts): only of a dead (or forgotten) owner's
// forks, many forks in one run with one map change, one quorum round and one lease wait, fenced until then, resumable,
// and kept fenced across a restart.
import test from 'ava';
import { TakeoverMachine, type TakeoverCandidate } from '../store/cluster/moves/takeover_machine.js';

const FORK = 'ab';
const dead = { fork: FORK, owner: 'x', epoch: 7 };
const candidate = (over: Partial<TakeoverCandidate> = {}): TakeoverCandidate => ({ fork: FORK, entry: dead, ownerState: 'dead', pending: undefined, busy: false, ...over });
const kinds = (actions: { kind: string }[]) => actions.map((a) => a.kind);

test('takeover: only of a dead or forgotten owner, not of a fork this actor owns, a fork moving here, or no live fork', (t) => {
  const refusals = [
    [candidate({ ownerState: 'alive' }), 'owner-not-dead', 'BAD_REQUEST'],
    [candidate({ ownerState: 'suspect' }), 'owner-not-dead', 'BAD_REQUEST'],
    [candidate({ entry: { ...dead, owner: 't' } }), 'already-owner', 'BAD_REQUEST'],
    [candidate({ busy: true }), 'busy', 'FENCED'],
    [candidate({ entry: undefined }), 'not-live', 'BAD_REQUEST'],
  ] as const;
  for (const [c, reason, code] of refusals) {
    const actions = new TakeoverMachine(500).handle({ kind: 'start', self: 't', forks: [c] });
    t.deepEqual(kinds(actions), ['report', 'finished'], reason);
    const report = actions[0] as Extract<(typeof actions)[number], { kind: 'report' }>;
    t.like(report.outcomes[0]!.failure, { reason, code });
  }
  const forgotten = new TakeoverMachine(500).handle({ kind: 'start', self: 't', forks: [candidate({ ownerState: 'left' })] });
  t.deepEqual(kinds(forgotten), ['fence', 'write-intents', 'drop-forks']);
});

test('takeover: fence, intent, drop, adopt at version + 1, a quorum, one lease period, then unfence', (t) => {
  const m = new TakeoverMachine(500);
  t.deepEqual(m.handle({ kind: 'start', self: 't', forks: [candidate()] }), [
    { kind: 'fence', forks: [FORK] },
    { kind: 'write-intents', intents: [{ kind: 'takeover', fork: FORK, from: 'x' }] },
    { kind: 'drop-forks', forks: [FORK] },
  ]);
  const entry = { fork: FORK, owner: 't', epoch: 13 };
  t.deepEqual(m.handle({ kind: 'forks-dropped', mapVersion: 12 }), [{ kind: 'adopt', entries: [entry] }, { kind: 'broadcast', entries: [entry] }]);
  t.deepEqual(m.handle({ kind: 'broadcast-acked', adopted: 1, quorum: 2 }), [{ kind: 'set-timer', ms: 600 }]);
  t.deepEqual(m.handle({ kind: 'timer-fired' }), [
    { kind: 'clear-intents', forks: [FORK] },
    { kind: 'unfence', forks: [FORK] },
    { kind: 'report', outcomes: [{ fork: FORK, from: 'x', epoch: 13, failure: null }] },
    { kind: 'finished' },
  ]);
});

test('takeover of many forks: one intent write, one drop, one adoption, one quorum round and one lease wait for all; refused forks are reported beside', (t) => {
  const forks = Array.from({ length: 82 }, (_, i) => i.toString(16).padStart(2, '0'));
  const m = new TakeoverMachine(500);
  const start = m.handle({
    kind: 'start',
    self: 't',
    forks: [...forks.map((fork) => candidate({ fork, entry: { fork, owner: 'x', epoch: 7 } })), candidate({ fork: 'ff', entry: { fork: 'ff', owner: 'y', epoch: 3 }, ownerState: 'alive' })],
  });
  t.deepEqual(kinds(start), ['fence', 'write-intents', 'drop-forks']);
  t.is((start[1] as { intents: unknown[] }).intents.length, 82);
  const adopted = m.handle({ kind: 'forks-dropped', mapVersion: 40 });
  t.deepEqual(kinds(adopted), ['adopt', 'broadcast']);
  t.true((adopted[0] as { entries: { epoch: number }[] }).entries.every((e) => e.epoch === 41));
  t.deepEqual(m.handle({ kind: 'broadcast-acked', adopted: 1, quorum: 2 }), [{ kind: 'set-timer', ms: 600 }]);
  const done = m.handle({ kind: 'timer-fired' });
  t.deepEqual(kinds(done), ['clear-intents', 'unfence', 'report', 'finished']);
  const { outcomes } = done[2] as Extract<(typeof done)[number], { kind: 'report' }>;
  t.is(outcomes.filter((o) => !o.failure).length, 82);
  t.like(outcomes.find((o) => o.fork === 'ff')?.failure, { reason: 'owner-not-dead' });
});

test('takeover: without a quorum the forks stay fenced; a re-run resumes and a restart keeps the fence', (t) => {
  const m = new TakeoverMachine(500);
  m.handle({ kind: 'start', self: 't', forks: [candidate()] });
  m.handle({ kind: 'forks-dropped', mapVersion: 12 });
  const short = m.handle({ kind: 'broadcast-acked', adopted: 0, quorum: 2 });
  t.deepEqual(kinds(short), ['report', 'finished']);
  t.like((short[0] as Extract<(typeof short)[number], { kind: 'report' }>).outcomes[0]!.failure, { reason: 'no-quorum', retryable: true });

  const adopted = { fork: FORK, owner: 't', epoch: 13 };
  const intent = { kind: 'takeover' as const, fork: FORK, from: 'x' };
  const rerun = new TakeoverMachine(500);
  t.deepEqual(rerun.handle({ kind: 'start', self: 't', forks: [candidate({ entry: adopted, pending: intent })] }), [
    { kind: 'fence', forks: [FORK] },
    { kind: 'broadcast', entries: [adopted] },
  ]);
  t.deepEqual(rerun.handle({ kind: 'broadcast-acked', adopted: 1, quorum: 2 }), [{ kind: 'set-timer', ms: 600 }]);
  t.like((rerun.handle({ kind: 'timer-fired' })[2] as { outcomes: unknown[] }).outcomes[0], { from: 'x', epoch: 13, failure: null });

  t.deepEqual(new TakeoverMachine(500).handle({ kind: 'restart-with-intents', self: 't', intents: [{ intent, entry: adopted }] }), [{ kind: 'fence', forks: [FORK] }, { kind: 'finished' }]);
  // An intent written before the entry was adopted protects nothing: cleared, not fenced.
  t.deepEqual(new TakeoverMachine(500).handle({ kind: 'restart-with-intents', self: 't', intents: [{ intent, entry: dead }] }), [{ kind: 'clear-intents', forks: [FORK] }, { kind: 'finished' }]);
});
