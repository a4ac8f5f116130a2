// `npm run bench:fuzz`: 10k seeded hostile requests (test/helpers/fuzz_bodies.ts) against a real
// actor started by `dbslm store start`, first 32 in flight, then one at a time (so a reply's time
// is its own, not the queue's). Prints the replies by code, the slowest reply and the actor's RSS.
// FUZZ_SEED, FUZZ_REQUESTS and FUZZ_IN_FLIGHT tune it.
import os from 'node:os';
import { launchActor } from '../cli/io/actor_process.js';
import { formatReport, fuzzCalls, runFuzz } from '../test/helpers/fuzz_driver.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20240607);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 10_000);
const IN_FLIGHT = Number(process.env.FUZZ_IN_FLIGHT ?? 32);

async function main(): Promise<void> {
  for (const inFlight of [IN_FLIGHT, 1]) {
    const actor = await launchActor({ id: 'fz', throughCli: true, stderr: 'inherit' });
    try {
      const report = await runFuzz(actor.endpoint, fuzzCalls(SEED, REQUESTS, 'fz'), { pid: actor.proc.pid!, inFlight });
      console.log(`\nseed ${SEED}, ${inFlight} in flight`);
      for (const line of formatReport(report)) console.log(`  ${line}`);
      for (const line of [...report.problems, ...report.internal].slice(0, 20)) console.log(`  ! ${line}`);
    } finally {
      await actor.stop();
    }
  }
  console.log(`\nmachine: ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} (shared with other work)`);
}

await main().catch((err) => {
  console.error(`bench:fuzz failed: ${(err as Error).stack}`);
  process.exit(1);
});
