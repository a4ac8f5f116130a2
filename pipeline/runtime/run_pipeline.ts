// `dbslm pipeline run` without its command line: open the store, plan the counting chain, check
// the model (beforeCounting), count (the coordinator), then smooth/export/evaluate (afterCounting),
// and report the peak memory of the processes involved. The run's metrics hub (run_metrics.ts)
// serves `metrics tail`, Prometheus and `pipeline tap` from the store's opening to the run's end.
import fs from 'node:fs';
import type { PipelineDefinition } from '../definition/definition.js';
import { Coordinator, type CoordinatorHooks, type CountingSummary } from './coordinator.js';
import { allReadTasks, planFromDefinition, type StageModules } from './definition_plan.js';
import { afterCounting, beforeCounting, type FinishReport } from './phases.js';
import type { RuntimePlan } from './plan.js';
import { startRunMetrics } from './run_metrics.js';
import { openStore } from './store_setup.js';
import { WorkerHosts } from './worker_hosts.js';

export interface PipelineRunResult {
  /** Null when every input had been counted by an earlier run (nothing to count). */
  summary: CountingSummary | null;
  /** Smoothing, export and evaluation. */
  finish: FinishReport;
  /** Peak RSS of this process (the coordinator), KiB. */
  coordinatorRssKb: number;
  /** Peak RSS (VmHWM) of each spawned store actor, KiB; null when it could not be read. */
  storeRss: { id: string; kb: number | null }[];
}

/** VmHWM of a live process (Linux), in KiB; null elsewhere or once it exited. */
export function peakRssKb(pid: number): number | null {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export interface RunHooks extends Pick<CoordinatorHooks, 'onProgress' | 'progressMs'> {
  /** Notices and phase lines, one line each. */
  log(line: string): void;
  /** Milliseconds a store.join endpoint has to answer (default 5000). */
  connectTimeoutMs?: number;
  /** Milliseconds between the stage actors' metrics snapshots (default: publisher.ts's). */
  metricsIntervalMs?: number;
  /** Where `pipeline worker`s of other hosts connect (tcp://ADDRESS:PORT), when a stage has a host; default tcp://127.0.0.1:0. */
  listen?: string;
  /** How long to wait for those workers (default 120 s). */
  workerWaitMs?: number;
}

/** The workers of the hosts the plan places stages on, connected; null when every stage runs here. */
async function connectWorkers(plan: RuntimePlan, hooks: RunHooks): Promise<WorkerHosts | null> {
  const hosts = [...new Set(plan.stages.flatMap((s) => (s.host ? [s.host.name] : [])))];
  if (hosts.length === 0) return null;
  const workers = await WorkerHosts.listen(hooks.listen ?? 'tcp://127.0.0.1:0');
  try {
    await workers.waitFor(hosts, hooks.workerWaitMs ?? 120000, (missing) =>
      hooks.log(`waiting for pipeline workers: run \`dbslm pipeline worker --connect ${workers.endpoint} --name HOST\` for ${missing.join(', ')}`),
    );
    return workers;
  } catch (err) {
    await workers.close();
    throw err;
  }
}

export async function runPipeline(definition: PipelineDefinition, stages: StageModules, hooks: RunHooks): Promise<PipelineRunResult> {
  const store = await openStore(definition.store, { connectTimeoutMs: hooks.connectTimeoutMs, onNotice: hooks.log });
  // Ctrl-C or a kill: stop the store actors this run spawned (stage actors end with this process
  // on their own), then exit as the signal would. A kill -9 leaves them to the next run's cleanup.
  const onSignal = (signal: NodeJS.Signals) => {
    hooks.log(`${signal}: stopping the store actors this run started`);
    void store.close().finally(() => process.exit(128 + (signal === 'SIGINT' ? 2 : 15)));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let metrics: Awaited<ReturnType<typeof startRunMetrics>> | null = null;
  try {
    // With stages on other hosts the hub binds the address they reach the coordinator at.
    const listenHost = hooks.listen && definition.stages.some((s) => s.host) ? new URL(hooks.listen.replace(/^tcp:/, 'http:')).hostname : undefined;
    metrics = await startRunMetrics(definition, store, hooks.log, undefined, listenHost);
    const counting = await beforeCounting(definition, store.client, allReadTasks(definition, stages), { log: hooks.log });
    let summary: CountingSummary | null = null;
    if (counting.tasks.length > 0) {
      const plan = { ...planFromDefinition(definition, stages, store.endpoints, hooks.log, counting), metrics: { endpoint: metrics.hub.endpoint, intervalMs: hooks.metricsIntervalMs } };
      const hub = metrics.hub;
      hub.expectStages(plan.stages);
      const workers = await connectWorkers(plan, hooks);
      if (workers && listenHost) plan.listenHost = listenHost;
      try {
        summary = await new Coordinator(plan, { onProgress: hooks.onProgress, onNotice: hooks.log, progressMs: hooks.progressMs, onTaps: (taps) => hub.recordTaps(taps) }, workers).run();
      } finally {
        await workers?.close();
      }
    }
    const finish = await afterCounting(definition, store.client, counting, { log: hooks.log });
    const storeRss = store.actors.map(({ id, pid }) => ({ id, kb: peakRssKb(pid) }));
    return { summary, finish, coordinatorRssKb: process.resourceUsage().maxRSS, storeRss };
  } finally {
    // Before the store closes: the hub's last view asks the store actors once more.
    await metrics?.end();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await store.close();
  }
}
