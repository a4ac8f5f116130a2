// The metrics hub of one `pipeline run`: started once the store is open (its actors get rows),
// ended after the run, failed or not (tails then print the last view and exit). Stage actors
// publish to its endpoint; it records its endpoints, and the stages' tap endpoints, in
// out/.dbslm-metrics for `metrics tail` and `pipeline tap`. An ipc hub socket goes in
// transport.dir, else in a temporary directory removed at the end.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PipelineDefinition } from '../definition/definition.js';
import { defaultMetricsFile } from '../metrics/endpoint_file.js';
import { hubOptionsFor, MetricsHub } from '../metrics/hub.js';
import type { StoreActorRef } from '../metrics/store_rows.js';
import type { OpenStore } from './store_setup.js';

export interface RunMetrics {
  hub: MetricsHub;
  end(): Promise<void>;
}

/** The store actors to show: spawned ones by id, joined ones as the client knows them (id -> endpoint). */
export function storeActorRefs(store: Pick<OpenStore, 'actors' | 'endpoints' | 'client'>): StoreActorRef[] {
  if (store.actors.length > 0) return store.actors.map((a, i) => ({ id: a.id, endpoint: store.endpoints[i]! }));
  const members = [...store.client.members.entries()].map(([id, endpoint]) => ({ id, endpoint }));
  return members.length > 0 ? members : store.endpoints.map((endpoint) => ({ id: endpoint, endpoint }));
}

/** `host`: the coordinator's address that stages on other hosts reach (`--listen`), if any. */
export async function startRunMetrics(definition: PipelineDefinition, store: OpenStore, log: (line: string) => void, cwd = process.cwd(), host?: string): Promise<RunMetrics> {
  const made = definition.transport.dir === null;
  const runDir = definition.transport.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'dbslm-hub-'));
  if (!made) fs.mkdirSync(runDir, { recursive: true });
  let hub: MetricsHub;
  try {
    hub = await MetricsHub.start(hubOptionsFor(definition, runDir, storeActorRefs(store), cwd, host));
  } catch (err) {
    if (made) fs.rmSync(runDir, { recursive: true, force: true });
    throw err;
  }
  const prometheus = hub.prometheusUrl ? `; Prometheus at ${hub.prometheusUrl}` : '';
  log(`metrics: dbslm metrics tail --connect ${hub.tailEndpoint}${prometheus} (recorded in ${path.relative(cwd, defaultMetricsFile(cwd))})`);
  return {
    hub,
    end: async () => {
      try {
        await hub.end();
      } finally {
        if (made) fs.rmSync(runDir, { recursive: true, force: true });
      }
    },
  };
}
