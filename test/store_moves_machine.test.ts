// The source and target machines driven against each other in-process (helpers/move_scenario.ts): two simulated
// actors, a writer of exactly-once batches, an operator moving the fork back and forth, a network that loses,
// duplicates and delays messages (FIFO per link, like a ZeroMQ connection; in the last tests also overtaken, and
// held for a restarted receiver as ZeroMQ does), partitions, crashes that keep only what is on disk
// (rows, dedup records, map entry, intents), a fake clock and seeded randomness. After every run: both actors agree
// on one owner at the highest epoch, no epoch had two owners, no row or dedup record of the snapshot and tail was
// lost, nothing was applied twice, nothing stays fenced, and every move that replied OK was adopted. A failure names
// its seeds; MOVE_SIM_SEED=N reruns just that seed.
import test from 'ava';
import type { SourcePhase } from '../store/cluster/moves/source_events.js';
import { runScenario, type ScenarioOptions, type ScenarioResult } from './helpers/move_scenario.js';
import { seededRandom } from './helpers/sim_net.js';

const PHASES: SourcePhase[] = ['snapshot', 'catch-up', 'fencing', 'last-tail', 'lease', 'cut-over', 'resolving', 'dropping'];
const ONLY_SEED = process.env.MOVE_SIM_SEED ? Number(process.env.MOVE_SIM_SEED) : null;

function runSeeds(count: number, options: (seed: number) => Omit<ScenarioOptions, 'seed'>): ScenarioResult[] {
  const seeds = ONLY_SEED !== null ? [ONLY_SEED] : Array.from({ length: count }, (_, i) => i + 1);
  return seeds.map((seed) => runScenario({ seed, ...options(seed) }));
}

const broken = (results: ScenarioResult[]) => results.filter((r) => r.violations.length > 0).map((r) => `seed ${r.seed}: ${r.violations.join('; ')}`);

test('without faults every move hands the fork over with every row and dedup record', (t) => {
  const results = runSeeds(40, () => ({ moves: 3 }));
  t.deepEqual(broken(results), []);
  t.deepEqual(results.flatMap((r) => r.failures), []);
  t.is(results.reduce((n, r) => n + r.movesOk, 0), results.length * 3);
  t.true(results.every((r) => r.batches > 100), 'the writer kept writing during the moves');
});

for (const side of ['source', 'target'] as const) {
  test(`a crash of the ${side} at each phase of a move loses nothing and leaves one owner`, (t) => {
    for (const phase of PHASES) {
      const results = runSeeds(12, (seed) => ({
        crashAt: { side, phase },
        // A cut-over goes unanswered (so the outcome is resolved) only if the network fails right then.
        partitionAt: phase === 'resolving' || (phase === 'dropping' && seed % 2 === 0) ? { phase: 'cut-over', ms: 200 } : undefined,
        faults: { lossRate: 0.005 },
      }));
      t.deepEqual(broken(results), [], `${side} crashed at ${phase}`);
      const reached = results.filter((r) => r.crashedAt.length > 0).length;
      t.true(ONLY_SEED !== null || reached >= results.length / 2, `the first move reached ${phase} in only ${reached} of ${results.length} runs`);
    }
  });
}

test('random losses, duplicates, delays, partitions, crashes and lease losses break no invariant', (t) => {
  const results = runSeeds(200, (seed) => {
    const random = seededRandom(seed * 7919);
    return { randomCrashes: true, moves: 6, faults: { lossRate: random() * 0.02, duplicateRate: random() * 0.05 } };
  });
  t.deepEqual(broken(results), []);
  const ok = results.reduce((n, r) => n + r.movesOk, 0);
  const failed = results.reduce((n, r) => n + r.failures.length, 0);
  t.true(ok > results.length, `only ${ok} moves succeeded (${failed} failed)`);
  t.log(`${results.length} runs: ${ok} moves succeeded, ${failed} failed safely`);
});

// Seen with real processes: the source frozen mid-snapshot, the target killed and restarted; on resuming, ZeroMQ
// delivered the chunk it had queued to the new target process, which took it for the first chunk of a move, cleared
// the rows it had imported and went on: the move replied OK with the target holding part of the fork.
// Chunks now carry their sequence number, and the restarted target refuses one it cannot place: the move fails and
// the source keeps the fork.
test('a target restarted mid-snapshot that gets a chunk queued before its crash does not end up owning part of the fork', (t) => {
  const results = runSeeds(20, () => ({ moves: 1, initialRows: 100, crashTargetAtChunk: { seq: 3, downMs: 50 }, faults: { queueForRestart: true } }));
  t.true(results.every((r) => r.crashedAt.includes('snapshot')), 'the target did not crash during the snapshot');
  t.deepEqual(broken(results), []);
  t.deepEqual([...new Set(results.flatMap((r) => r.failures))], ['chunk-refused']);
});

test('a move whose target does not hold exactly the rows sent is not cut over: counts and digests are compared first', (t) => {
  const results = runSeeds(20, () => ({ moves: 1, initialRows: 100, tamperTargetAtChunk: 5 }));
  t.deepEqual(broken(results), []);
  t.deepEqual([...new Set(results.flatMap((r) => r.failures))], ['verify-refused']);
});

test('with messages overtaken, duplicated, and queued for a restarted receiver, no invariant breaks either', (t) => {
  const results = runSeeds(200, (seed) => {
    const random = seededRandom(seed * 104729);
    return {
      randomCrashes: true,
      moves: 6,
      faults: { lossRate: random() * 0.02, duplicateRate: random() * 0.1, reorderRate: random() * 0.1, queueForRestart: true },
    };
  });
  t.deepEqual(broken(results), []);
  const ok = results.reduce((n, r) => n + r.movesOk, 0);
  t.true(ok > results.length, `only ${ok} moves succeeded`);
});
