// One seeded run of fork moves between two simulated actors (move_sim.ts): a writer sends exactly-once batches to
// whoever owns the fork, an operator moves the fork back and forth, the network loses, duplicates and delays
// messages, and either actor may crash (at a chosen phase of the first move, or at random) and restart. After the
// faults stop and everything settles, `violations` lists every broken invariant of the move protocol.
import type { ForkEntry } from '../../schemas/fork_map.js';
import type { SourcePhase, SourceTuning } from '../../store/cluster/moves/source_events.js';
import { applyOps, FORK, SimActor, type Batch, type MoveOutcome, type Op, type Rows } from './move_sim.js';
import { NO_FAULTS, seededRandom, SimClock, SimNet, type NetFaults } from './sim_net.js';

export interface ScenarioOptions {
  seed: number;
  /** Crash this side when the first move's source machine enters this phase. */
  crashAt?: { side: 'source' | 'target'; phase: SourcePhase };
  /** Crash the target right after the first move's source sent chunk `seq` (so the chunk is on its way), for `downMs`. */
  crashTargetAtChunk?: { seq: number; downMs: number };
  /** Delete some of the target's rows of the fork right after the first move's source sent chunk `seq`, as a bug or
   * a lost write outside the move protocol would, to check that the move notices before it cuts over. */
  tamperTargetAtChunk?: number;
  /** Rows the source holds before the first move (else 0-120, from the seed). */
  initialRows?: number;
  /** Cut the network for `ms` when the first move's source machine enters `phase`. */
  partitionAt?: { phase: SourcePhase; ms: number };
  /** Up to two crashes and two partitions at random times, and lease losses. */
  randomCrashes?: boolean;
  /** Network faults; latency bounds are picked from the seed when not given. */
  faults?: Partial<NetFaults>;
  moves?: number;
  horizonMs?: number;
}

export interface ScenarioResult {
  seed: number;
  violations: string[];
  movesOk: number;
  failures: string[];
  /** Phases of the source machine at which a planned crash happened. */
  crashedAt: SourcePhase[];
  batches: number;
}

const SETTLE_MS = 120000;

export function runScenario(opts: ScenarioOptions): ScenarioResult {
  const random = seededRandom(opts.seed);
  const pick = (lo: number, hi: number) => lo + random() * (hi - lo);
  const clock = new SimClock();
  const net = new SimNet(clock, random);
  const horizon = opts.horizonMs ?? 3000;
  const tuning: SourceTuning = {
    chunkRows: 8,
    chunkBytes: 1 << 20,
    shortRoundRows: Math.floor(pick(2, 10)),
    maxCatchUpRounds: Math.floor(pick(1, 6)),
    chunkTimeoutMs: 200,
    verifyTimeoutMs: 200,
    cutOverTimeoutMs: 40,
    cutOverAttempts: 3,
    leasePollMs: 5,
    leaseWaitMs: 40,
    resolveTimeoutMs: 40,
    resolveRetryMs: 25,
    replicaWaitMs: 200,
  };
  const initial: ForkEntry = { fork: FORK, owner: 's', epoch: 1 };
  const actors = [new SimActor('s', initial, clock, net, tuning), new SimActor('t', initial, clock, net, tuning)];
  const [s, t] = actors as [SimActor, SimActor];
  for (const a of actors) net.add(a);
  const byId = (id: string) => actors.find((a) => a.id === id);
  const other = (a: SimActor) => (a === s ? t : s);
  net.faults = { ...NO_FAULTS, minLatencyMs: 1, maxLatencyMs: Math.floor(pick(2, 12)), ...opts.faults };

  // The reference: what the owner's rows must be, every acknowledged batch applied once, in order.
  const model: Rows = new Map();
  const keyOf = (i: number) => `${FORK}00${i.toString(16).padStart(4, '0')}`;
  const counterOf = (i: number) => `${FORK}ff${i.toString(16).padStart(2, '0')}`;
  const initialOps: Op[] = [];
  for (let i = 0, n = opts.initialRows ?? Math.floor(pick(0, 120)); i < n; i++) initialOps.push({ op: 'set', key: keyOf(i), value: `initial-${i}` });
  applyOps(model, initialOps);
  applyOps(s.rows, initialOps);

  const result: ScenarioResult = { seed: opts.seed, violations: [], movesOk: 0, failures: [], crashedAt: [], batches: 0 };
  const violation = (what: string) => result.violations.push(what);

  // Writer: one batch at a time; sometimes it "loses" an ack and resends the same (producer, seq).
  let seq = 0;
  let pending: Batch | null = null;
  let writeTo: SimActor = s;
  const applied = new Set<number>();
  const newBatch = (): Batch => {
    const ops: Op[] = [];
    for (let i = 0, n = Math.floor(pick(1, 4)); i < n; i++) {
      const r = random();
      // Keys from 60 up: the initial rows below are never written again, so losing one of them cannot be hidden.
      if (r < 0.5) ops.push({ op: 'set', key: keyOf(Math.floor(pick(60, 220))), value: `w${seq}-${i}` });
      else if (r < 0.6) ops.push({ op: 'delete', key: keyOf(Math.floor(pick(60, 220))) });
      else ops.push({ op: 'incr', key: counterOf(Math.floor(pick(0, 8))), delta: Math.floor(pick(1, 4)) });
    }
    return { producer: 'w', seq, ops };
  };
  const write = () => {
    if (!pending) {
      if (clock.now > horizon) return;
      seq++;
      pending = newBatch();
    }
    const res = writeTo.write(pending);
    if (res === 'ok') {
      applyOps(model, pending.ops);
      applied.add(pending.seq);
      result.batches++;
      if (!(clock.now < horizon && random() < 0.15)) pending = null;
    } else if (res === 'duplicate') {
      if (!applied.has(pending.seq)) violation(`batch ${pending.seq} was reported a duplicate but never applied`);
      pending = null;
    } else if (res === 'moved') writeTo = byId(writeTo.entry.owner) ?? other(writeTo);
    else if (res === 'down' || random() < 0.2) writeTo = other(writeTo);
    clock.schedule(pick(2, 10), write);
  };
  clock.schedule(1, write);

  // Operator: one move at a time, from whoever owns the fork to the other actor.
  let movesStarted = 0;
  let moving: SimActor | null = null;
  const outcomes: MoveOutcome[] = [];
  const operate = () => {
    if (clock.now > horizon || movesStarted >= (opts.moves ?? 3)) return;
    const owner = actors.filter((a) => a.up && a.entry.owner === a.id).sort((a, b) => b.entry.epoch - a.entry.epoch)[0];
    if (!moving && owner) {
      const moveId = `${owner.id}:${FORK}:${movesStarted}:${Math.floor(random() * 1e9).toString(36)}`;
      const started = owner.startMove(moveId, other(owner).id, (outcome) => {
        outcomes.push(outcome);
        if (outcome.ok) result.movesOk++;
        else result.failures.push(outcome.reason);
        moving = null;
      });
      if (started) {
        movesStarted++;
        moving = owner;
      }
    }
    clock.schedule(pick(20, 200), operate);
  };
  clock.schedule(pick(0, 50), operate);

  const crash = (victim: SimActor, downMs = pick(20, 400)) => {
    if (!victim.up) return;
    victim.crash();
    if (moving === victim) moving = null; // its operator gets no reply
    clock.schedule(downMs, () => {
      if (!victim.up) victim.restart();
    });
  };
  const partition = (ms: number) => {
    net.partitioned = true;
    clock.schedule(ms, () => (net.partitioned = false));
  };
  let firstMoveId: string | null = null;
  let partitioned = false;
  for (const a of actors) {
    a.onSourceStep = (machine) => {
      firstMoveId ??= machine.moveId;
      if (machine.moveId !== firstMoveId) return;
      if (opts.partitionAt && machine.phase === opts.partitionAt.phase && !partitioned) {
        partitioned = true;
        partition(opts.partitionAt.ms);
      }
      const plan = opts.crashAt;
      if (!plan || machine.phase !== plan.phase || result.crashedAt.length > 0) return;
      result.crashedAt.push(plan.phase);
      const victim = plan.side === 'source' ? a : byId(machine.to)!;
      clock.schedule(pick(0, 3), () => crash(victim));
    };
  }
  for (const a of actors) {
    a.onSourceAction = (machine, action) => {
      if (opts.tamperTargetAtChunk !== undefined && machine.moveId === firstMoveId && action.kind === 'send-chunk' && action.seq === opts.tamperTargetAtChunk) {
        const target = byId(machine.to)!;
        for (const key of [...target.rows.keys()].filter((_, i) => i % 2 === 0)) target.rows.delete(key);
      }
      const plan = opts.crashTargetAtChunk;
      if (!plan || machine.moveId !== firstMoveId || action.kind !== 'send-chunk' || action.seq !== plan.seq || result.crashedAt.length > 0) return;
      result.crashedAt.push(machine.phase);
      clock.schedule(0, () => crash(byId(machine.to)!, plan.downMs));
    };
  }
  if (opts.randomCrashes) {
    for (let i = 0, n = Math.floor(pick(0, 3)); i < n; i++) clock.schedule(pick(0, horizon), () => crash(random() < 0.5 ? s : t));
    for (let i = 0, n = Math.floor(pick(0, 3)); i < n; i++) clock.schedule(pick(0, horizon), () => partition(pick(20, 300)));
    for (let i = 0, n = Math.floor(pick(0, 3)); i < n; i++) {
      clock.schedule(pick(0, horizon), () => {
        const a = random() < 0.5 ? s : t;
        a.leaseHeld = false;
        clock.schedule(pick(10, 100), () => (a.leaseHeld = true));
      });
    }
  }

  // Faults stop at the horizon; then everything must settle by itself.
  clock.run(horizon);
  net.faults = { ...NO_FAULTS, queueForRestart: net.faults.queueForRestart };
  net.partitioned = false;
  for (const a of actors) if (!a.up) a.restart();
  for (const a of actors) a.leaseHeld = true;
  if (!clock.run(horizon + SETTLE_MS)) violation(`still busy ${SETTLE_MS} ms after the faults stopped (${clock.pending} events pending)`);
  checkInvariants(actors, model, applied, outcomes, violation);
  return result;
}

function checkInvariants(actors: SimActor[], model: Rows, applied: Set<number>, outcomes: MoveOutcome[], violation: (what: string) => void): void {
  const fmt = (e: ForkEntry) => `${e.owner}@${e.epoch}`;
  const [s, t] = actors as [SimActor, SimActor];
  if (s.entry.epoch !== t.entry.epoch || s.entry.owner !== t.entry.owner) violation(`the actors disagree on the owner: s has ${fmt(s.entry)}, t has ${fmt(t.entry)}`);
  const newest = [s.entry, t.entry].sort((a, b) => b.epoch - a.epoch)[0]!;
  const owner = actors.find((a) => a.id === newest.owner);
  if (!owner || owner.entry.owner !== owner.id) {
    violation(`nobody owns the fork at the highest epoch ${newest.epoch}`);
    return;
  }
  const owners = new Map<number, Set<string>>();
  for (const e of actors.flatMap((a) => a.history)) owners.set(e.epoch, (owners.get(e.epoch) ?? new Set()).add(e.owner));
  for (const [epoch, ids] of owners) if (ids.size > 1) violation(`epoch ${epoch} has two owners: ${[...ids].join(', ')}`);
  for (const a of actors) {
    if (a.fenced) violation(`${a.id} still fences the fork`);
    if (a.intents.size > 0) violation(`${a.id} still holds an intent`);
    if (a.run) violation(`${a.id} still runs a source machine in phase ${a.run.machine.phase}`);
  }
  const wrong: string[] = [];
  for (const [key, want] of model) {
    const got = owner.rows.get(key);
    if (!got) wrong.push(`${key} lost`);
    else if (got.kind !== want.kind || !got.data.equals(want.data)) wrong.push(`${key} holds ${got.data.toString('hex')}, not ${want.data.toString('hex')}`);
  }
  for (const key of owner.rows.keys()) if (!model.has(key)) wrong.push(`${key} should not exist`);
  if (wrong.length > 0) violation(`the owner ${owner.id} holds ${owner.rows.size} rows, the model ${model.size}: ${wrong.length} differ (${wrong.slice(0, 3).join('; ')})`);
  const missingDedup = [...applied].filter((seq) => !owner.dedup.has(`w/${seq}`));
  if (missingDedup.length > 0) violation(`the owner lost the dedup records of batches ${missingDedup.slice(0, 5).join(', ')}`);
  for (const o of outcomes) {
    if (o.ok && !actors.find((a) => a.id === o.to)!.history.some((e) => e.epoch === o.epoch && e.owner === o.to)) {
      violation(`a move replied OK to ${o.to} at epoch ${o.epoch}, which ${o.to} never adopted`);
    }
  }
}
