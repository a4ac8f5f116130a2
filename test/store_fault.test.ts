// Randomized, seeded fault test of the store: per seed, a 3-actor cluster of real processes takes exactly-once
// increment batches, sets of ever-newer values and reads while forks move back and forth and actors are killed -9
// and restarted, frozen (SIGSTOP) around the dead-after bound, or (as root) run out of disk or cut off the network
// (each actor in a network namespace of its own, its link taken down: test/helpers/fault_network.ts); then everything is
// healed and checked: no acknowledged write lost, no increment applied twice, no stale read, no fork left fenced,
// no epoch with two owners (test/helpers/fault_checker.ts).
//
//   FAULT_RUNS=N        runs (default 20, seeds FAULT_BASE_SEED.. FAULT_BASE_SEED+N-1; FAULT_BASE_SEED default 1)
//   FAULT_SEED=S        rerun one seed
//   FAULT_CHAOS_MS=MS   how long each run writes and injects faults (default 3000)
//   FAULT_KINDS=a,b     only these fault kinds (test/helpers/fault_actions.ts: none, kill-source, kill-target,
//                       restart-target-under-frozen-source, crash-source-before-cutover-reply, freeze-source,
//                       freeze-target, freeze-other, disk-full, partition-source, partition-target, partition-other,
//                       kill-permanent),
//                       e.g. to chase one defect
//   FAULT_SMALL_DISK=1  a small disk (root only) in every run, not in half of them (with FAULT_KINDS=disk-full)
//   FAULT_PARALLEL=N    runs at a time (default 2)
//   FAULT_REPLICAS=R    every actor with --replicas R (default 1); with 2, one member per run may be lost for good
//                       (kill-permanent, only while every fork has its in-sync replica: its forks fail over to them). Not in the suite (CI time); seed 6
//                       at R = 2 once had a frozen replica promote itself while its owner lived (two owners at one
//                       epoch), fixed by store/replication/failover_guard.ts
//   FAULT_DUMP_DIR=DIR  write each run's history, final values, events and the actors' output tails to DIR/fault-<seed>.json
//   FAULT_VERBOSE=1     print every run's fault events, not only those of failing runs
//   FAULT_MOVE_TIMEOUT_MS, FAULT_SETTLE_MS  how long a move may take (20000) and how long the heal waits for the
//                       moves still running (1000); longer values show the outcome of moves stuck on a dead peer
//
// A seed fixes every random choice (which fork moves where, which fault, when, for how long, which keys the
// clients touch). The interleaving with the actors' own timing (gossip, group commits, the OS scheduler) is not
// fixed, so a rerun of a failing seed makes the same choices but may meet them at other moments: a violation that
// depends on a narrow race may need a few reruns (or FAULT_RUNS with the same base) to show again.
import test, { type ExecutionContext } from 'ava';
import type { FaultKind } from './helpers/fault_injector.js';
import { faultRun, type RunReport } from './helpers/fault_run.js';

const one = process.env.FAULT_SEED;
const runs = Number(process.env.FAULT_RUNS ?? 20);
const base = Number(process.env.FAULT_BASE_SEED ?? 1);
const seeds = one !== undefined ? [Number(one)] : Array.from({ length: runs }, (_, i) => base + i);
// 3 s of faults per run (one to three episodes): the suite has 15 minutes in all; FAULT_CHAOS_MS=4000 or more for longer runs.
const chaosMs = Number(process.env.FAULT_CHAOS_MS ?? 3000);
const kinds = process.env.FAULT_KINDS ? (process.env.FAULT_KINDS.split(',') as FaultKind[]) : undefined;
const replicas = Number(process.env.FAULT_REPLICAS ?? 1);
const reports: RunReport[] = [];

const fmt = (o: Record<string, number>) =>
  Object.entries(o)
    .sort()
    .map(([k, v]) => `${k}=${v}`)
    .join(' ') || '-';
const add = (into: Record<string, number>, from: Record<string, number>) => {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
};

// Runs go FAULT_PARALLEL (default 2) at a time: a run spends most of its time waiting out faults and timeouts (about
// 6 s of CPU in 15 s), so two share the machine well. Each waits for a slot before its own timeout starts.
const parallel = Math.max(1, Number(process.env.FAULT_PARALLEL ?? 2));
let free = parallel;
const waiting: (() => void)[] = [];
const acquire = () => (free > 0 ? (free--, Promise.resolve()) : new Promise<void>((r) => waiting.push(r)));
const release = () => (waiting.length ? waiting.shift()!() : free++);

for (const seed of seeds) {
  test(`fault run seed=${seed} replicas=${replicas}`, async (t) => {
    t.timeout(30 * 60000); // while waiting for a slot
    await acquire();
    try {
      t.timeout(150000);
      const r = await faultRun(t, { seed, chaosMs, deadAfterMs: 1500, lanes: 6, readers: 2, fenceSettleMs: 35000, kinds, alwaysSmallDisk: !!process.env.FAULT_SMALL_DISK, replicas });
      report(t, seed, r);
    } finally {
      release();
    }
  });
}

function report(t: ExecutionContext, seed: number, r: RunReport): void {
  reports.push(r);
  const byKind: Record<string, number> = {};
  for (const v of r.violations) byKind[v.invariant] = (byKind[v.invariant] ?? 0) + 1;
  t.log(
    `seed=${seed} ${r.ms} ms; faults: ${fmt(r.faults)} (${r.faultsDuringMove} during a move); moves: ${fmt(r.moves)}; crashes=${r.crashes}` +
      `${r.smallDisk ? ` small disk on ${r.smallDisk}` : ''}; writes checked=${r.writesChecked} (acked ${r.ackedWrites}), reads checked=${r.readsChecked};` +
      ` outcomes: ${fmt(r.outcomes)}; violations: ${fmt(byKind)}`,
  );
  for (const n of r.notes) t.log(`note: ${n}`);
  if (process.env.FAULT_VERBOSE && !r.violations.length) t.log(`events:\n  ${r.events.join('\n  ')}`);
  if (r.violations.length) {
    t.log(`rerun this seed: FAULT_SEED=${seed} npx ava dist/test/store_fault.test.js`);
    for (const v of r.violations.slice(0, 40)) t.log(`  ${v.invariant} ${v.key ?? ''}: ${v.detail}`);
    if (r.violations.length > 40) t.log(`  ... ${r.violations.length - 40} more`);
    t.log(`events:\n  ${r.events.join('\n  ')}`);
    t.log(`client errors: ${JSON.stringify(r.errorSamples, null, 1)}`);
  }
  // An actor that exited by itself is worth its tail even when every check held.
  if (r.violations.length || r.crashes) for (const [id, out] of Object.entries(r.logs)) t.log(`actor ${id} output (tail):\n${out}`);
  t.deepEqual(r.violations, [], `seed ${seed}: ${r.violations.length} invariant violations (FAULT_SEED=${seed} reruns this seed's choices)`);
}

// After every run (concurrent tests run after serial ones, so this cannot be a test of its own).
test.after.always('figures over all fault runs', () => {
  const faults: Record<string, number> = {};
  const moves: Record<string, number> = {};
  const violations: Record<string, number> = {};
  let writes = 0;
  let acked = 0;
  let reads = 0;
  for (const r of reports) {
    add(faults, r.faults);
    add(moves, r.moves);
    writes += r.writesChecked;
    acked += r.ackedWrites;
    reads += r.readsChecked;
    for (const v of r.violations) violations[v.invariant] = (violations[v.invariant] ?? 0) + 1;
  }
  const failing = reports.filter((r) => r.violations.length).map((r) => r.seed);
  console.log(`store fault figures: runs=${reports.length} of ${seeds.length}; faults injected: ${fmt(faults)}; moves: ${fmt(moves)}`);
  console.log(`store fault figures: writes checked=${writes} (acked ${acked}); reads checked=${reads}; violations: ${fmt(violations)}${failing.length ? `; failing seeds: ${failing.sort((x, y) => x - y).join(', ')}` : ''}`);
});
