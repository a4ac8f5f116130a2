// Acceptance: `dbslm pipeline run` survives kill -9 and still exports the clean run's bytes.
// Per seed, a count and a split stage actor are killed at seeded moments during counting (the
// moment: how many batches the checkpoint holds); the coordinator itself is killed halfway and the
// same command run again; a store actor is killed mid-count and restarted by the test with
// `dbslm store start` on its data directory and endpoint. Each time the ARPA equals a clean run's.
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI_SCRIPT } from '../cli/io/actor_process.js';
import { BUNDLED_TRAIN } from './helpers/paths.js';
import { acceptDir, runPipeline, seeded, sleep, stageActors, startCli, writePipeline } from './helpers/pipeline_runs.js';
import { expectedBatches } from './helpers/runtime_plans.js';

const dir = acceptDir();
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));

const BATCH = 100;
const TOTAL = expectedBatches([BUNDLED_TRAIN], BATCH).batches.size;
/**
 * 2 split and 2 count workers into 2 store actors, 100-line batches (27 of the bundled corpus).
 * Order 2: what is under test is counting every batch once through kills, not smoothing (the
 * equality tests smooth order 3, the store's smoothing tests 3 and 5), and a bigram model smooths
 * in 40% of a trigram model's time.
 */
const shape = (name: string) => ['order: 2', 'stages:', `  read: { batch: ${BATCH} }`, '  split: { workers: 2 }', '  count: { workers: 2 }', 'store:', '  actors: 2', `  data: ${name}.store`];
const arpaOf = (name: string) => fs.readFileSync(path.join(dir, `${name}.arpa`));
const committed = (name: string) => {
  try {
    return fs.readFileSync(path.join(dir, `${name}.store`, `${name}.checkpoint`), 'utf8').split('\n').filter((l) => /^\d+ \d+$/.test(l)).length;
  } catch {
    return 0;
  }
};

let cleanArpa: Buffer | undefined;
const clean = () => cleanArpa ?? Promise.reject(new Error('the clean run did not run or failed'));

// First, alone (the kill tests below compare with it): a clean run, no restarts.
test.serial('a clean run: every batch counted once, no restarts', async (t) => {
  const { summary, result } = await runPipeline(writePipeline(dir, 'clean', [BUNDLED_TRAIN], shape('clean')));
  t.log(`clean run: ${Math.round(result.ms)} ms`);
  t.is(summary.counting?.batches, TOTAL);
  t.deepEqual(summary.counting?.stages.map((s) => s.restarts), [0, 0, 0]);
  cleanArpa = arpaOf('clean');
});

/** Resolves once `cond` holds, polling every 5 ms; rejects when `proc` exits first. */
async function whenOrExit(proc: ChildProcess, cond: () => boolean, what: string): Promise<void> {
  while (!cond()) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`the run ended before ${what}`);
    await sleep(5);
  }
}

for (const seed of [1, 2, 3]) {
  test.serial(`seed ${seed}: kill -9 of a count and a split stage actor during counting; the ARPA is the clean run's`, async (t) => {
    const random = seeded(seed);
    const name = `chaos${seed}`;
    const yaml = writePipeline(dir, name, [BUNDLED_TRAIN], shape(name));
    const { proc, done } = startCli(['pipeline', 'run', yaml, '--json']);
    // Seeded moments, by committed batches (the checkpoint grows in bursts as in-flight batches
    // land together): the count actor after 0..12, the split actor 1..8 later.
    const plan = [
      { stage: 'count', after: Math.floor(random() * 13) },
      { stage: 'split', after: 0 },
    ];
    plan[1]!.after = plan[0]!.after + 1 + Math.floor(random() * 8);
    for (const kill of plan) {
      await whenOrExit(proc, () => committed(name) >= kill.after && stageActors(proc.pid!).some((a) => a.stage === kill.stage), `${kill.after} batches were committed`);
      const actors = stageActors(proc.pid!).filter((a) => a.stage === kill.stage);
      const victim = actors[Math.floor(random() * actors.length)]!;
      const at = committed(name);
      process.kill(victim.pid, 'SIGKILL');
      t.log(`killed ${kill.stage} worker ${victim.worker} (pid ${victim.pid}) at ${at} of ${TOTAL} batches committed`);
      t.true(at < TOTAL, 'killed while counting');
    }
    const r = await done;
    t.is(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { counting: { stages: { name: string; restarts: number }[]; batches: number } };
    const restarts = Object.fromEntries(summary.counting.stages.map((s) => [s.name, s.restarts]));
    t.true(restarts.count! >= 1, 'the count actor was restarted');
    t.true(restarts.split! >= 1, 'the split actor was restarted');
    t.is(summary.counting.batches, TOTAL);
    t.true(arpaOf(name).equals(await clean()), 'ARPA byte-identical to the clean run');
  });
}

test.serial('kill -9 of the coordinator halfway, then the same command again: the ARPA is the clean run\'s', async (t) => {
  const name = 'coord';
  const yaml = writePipeline(dir, name, [BUNDLED_TRAIN], shape(name));
  const { proc, done } = startCli(['pipeline', 'run', yaml, '--json']);
  await whenOrExit(proc, () => committed(name) >= TOTAL / 2, 'half the batches were committed');
  const orphans = stageActors(proc.pid!);
  proc.kill('SIGKILL');
  const killed = await done;
  t.is(killed.signal, 'SIGKILL');
  const at = committed(name);
  t.true(at < TOTAL, `killed at ${at} of ${TOTAL} batches`);
  // Stage actors end when their coordinator's IPC channel closes.
  const deadline = performance.now() + 10000;
  const alive = () => orphans.filter((a) => fs.existsSync(`/proc/${a.pid}`) && !fs.readFileSync(`/proc/${a.pid}/stat`, 'utf8').includes(') Z '));
  while (alive().length > 0 && performance.now() < deadline) await sleep(50);
  t.deepEqual(alive(), [], 'the killed run\'s stage actors ended by themselves');

  const again = await runPipeline(yaml);
  t.regex(again.result.stderr, /stopped store actors a previous run left running/);
  t.regex(again.result.stderr, /resuming generation 1/);
  t.is(again.summary.counting?.skipped, at);
  t.true(arpaOf(name).equals(await clean()), 'ARPA byte-identical to the clean run');
});

// A store actor killed -9 mid-count and restarted on its data directory and endpoint (it rejoins
// through its members.json): the sink's writes to it are retried until it serves again.
test.serial('kill -9 of a store actor mid-count, restarted with dbslm store start: the ARPA is the clean run\'s', async (t) => {
  const name = 'storekill';
  const yaml = writePipeline(dir, name, [BUNDLED_TRAIN], shape(name));
  const { proc, done } = startCli(['pipeline', 'run', yaml, '--json']);
  t.teardown(() => proc.kill('SIGKILL'));
  const storeDir = path.join(dir, `${name}.store`);
  await whenOrExit(proc, () => committed(name) >= 5, '5 batches were committed');
  const actors = JSON.parse(fs.readFileSync(path.join(storeDir, 'actors.json'), 'utf8')) as { id: string; pid: number; dataDir: string }[];
  const victim = actors[1]!;
  // Its endpoint, as its peer remembers it.
  const peers = JSON.parse(fs.readFileSync(path.join(actors[0]!.dataDir, 'members.json'), 'utf8')) as { members: { id: string; endpoint: string }[] };
  const endpoint = peers.members.find((m) => m.id === victim.id)!.endpoint;
  process.kill(victim.pid, 'SIGKILL');
  const at = committed(name);
  t.log(`killed store actor ${victim.id} at ${at} of ${TOTAL} batches committed`);
  t.true(at < TOTAL);
  await sleep(500);
  const restarted = spawn(process.execPath, [CLI_SCRIPT, 'store', 'start', '--id', victim.id, '--data', victim.dataDir, '--bind', endpoint], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  restarted.stdout!.on('data', (d) => (log += d));
  restarted.stderr!.on('data', (d) => (log += d));
  t.teardown(() => restarted.kill('SIGKILL'));

  const r = await done;
  t.is(r.code, 0, `${r.stderr}\nrestarted actor:\n${log}`);
  const summary = JSON.parse(r.stdout) as { counting: { stages: { name: string; restarts: number }[]; redelivered: number } };
  t.log(`count restarts ${summary.counting.stages.find((s) => s.name === 'count')?.restarts}, batches redelivered ${summary.counting.redelivered}`);
  t.true(arpaOf(name).equals(await clean()), 'ARPA byte-identical to the clean run');
});
