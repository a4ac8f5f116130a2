// A valid spec (schema.ts) made into the PipelineDefinition the runtime consumes (definition.ts):
// relative paths resolved against the YAML file's directory, input formats decided, each present
// stage with its inputs, the transport kind chosen and the spawned store actors named. Pure: no
// file is touched (validate_environment.ts looks at the file system).
import path from 'node:path';
import type { EvaluateStage, InputDefinition, PipelineDefinition, StageCommon, StageDefinition, StoreDefinition } from './definition.js';
import { NAME_RE, type InputSpec, type PipelineSpec, type StagesSpec, type StoreSpec } from './schema.js';
import { presentStages, stageEdges, stageInputs } from './topology.js';

const NDJSON_RE = /\.(ndjson|jsonl)(\.gz)?$/i;

/** The name a pipeline gets when it has none: its file name without extension, made a valid name. */
export function defaultPipelineName(file: string): string {
  const stem = path.basename(file).replace(/\.(ya?ml)$/i, '');
  const cleaned = stem.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return NAME_RE.test(cleaned) ? cleaned : 'pipeline';
}

/** A path as written, against `baseDir`; `-` stays standard input. */
export function resolvePath(written: string, baseDir: string): string {
  return written === '-' ? '-' : path.resolve(baseDir, written);
}

export function resolveInput(input: InputSpec, baseDir: string): InputDefinition {
  const format = input.format ?? (NDJSON_RE.test(input.path) ? 'ndjson' : 'text');
  return {
    path: resolvePath(input.path, baseDir),
    written: input.path,
    format,
    config: format === 'ndjson' && input.config !== undefined ? resolvePath(input.config, baseDir) : null,
  };
}

/** Where spawned store actors keep their data when store.data is not given. */
export function defaultStoreDir(name: string, baseDir: string): string {
  return path.resolve(baseDir, 'out', `${name}.store`);
}

/**
 * The dead bound of spawned store actors, three times a standalone store's 5 s: they share one
 * machine with the pipeline's CPU-heavy stage actors, and at a load of 10 and more a busy actor's
 * gossip went unanswered for 5 s now and then, so its peers declared it dead and the run failed
 * (OWNER_DEAD, seen in 2 of 3 KJV order-5 runs). An actor that really dies is seen at once by its
 * process's exit; the bound only decides when its peers give up on it.
 */
export const SPAWNED_DEAD_AFTER_MS = 15_000;

export function resolveStore(store: StoreSpec, name: string, baseDir: string): StoreDefinition {
  if (store.join !== undefined) return { mode: 'join', endpoints: store.join, replicas: store.replicas };
  const dataDir = store.data === undefined ? defaultStoreDir(name, baseDir) : resolvePath(store.data, baseDir);
  const actors = Array.from({ length: store.actors ?? 1 }, (_, i) => {
    const id = `${name}-store-${i + 1}`;
    return { id, dataDir: path.join(dataDir, id) };
  });
  return { mode: 'spawn', dataDir, actors, replicas: store.replicas, deadAfterMs: store.dead_after_ms ?? SPAWNED_DEAD_AFTER_MS, ...(store.address !== undefined && { address: store.address }) };
}

function resolveStages(stages: StagesSpec, baseDir: string): StageDefinition[] {
  const inputs = stageInputs(stages);
  return presentStages(stages).map((name): StageDefinition => {
    // Present means listed or core, and the schema fills in the core stages' defaults.
    const written = stages[name]!;
    const common: StageCommon = {
      workers: written.workers,
      batch: written.batch,
      host: written.host ?? null,
      inputs: inputs.get(name)!,
      endpoint: written.endpoint ?? null,
    };
    if (name === 'materialise') return { ...common, name, k: stages.materialise.k, bits: stages.materialise.bits };
    if (name === 'evaluate') {
      const e = stages.evaluate!;
      const evaluate: EvaluateStage = { ...common, name, test: e.test.map((t) => resolveInput(t, baseDir)), samples: e.samples, seed: e.seed ?? null };
      return evaluate;
    }
    return { ...common, name };
  });
}

export function resolvePipeline(spec: PipelineSpec, file: string): PipelineDefinition {
  const absolute = path.resolve(file);
  const baseDir = path.dirname(absolute);
  const name = spec.name ?? defaultPipelineName(file);
  const stages = resolveStages(spec.stages, baseDir);
  return {
    file: absolute,
    baseDir,
    name,
    description: spec.description ?? null,
    inputs: spec.inputs.map((i) => resolveInput(i, baseDir)),
    tokenizer: spec.tokenizer,
    order: spec.order,
    discountFallback: spec.discount_fallback,
    strict: spec.strict,
    reset: spec.reset,
    stages,
    edges: stageEdges(spec.stages),
    hosts: spec.hosts,
    transport: {
      kind: spec.transport.kind ?? (stages.some((s) => s.host !== null) ? 'tcp' : 'ipc'),
      dir: spec.transport.dir === undefined ? null : resolvePath(spec.transport.dir, baseDir),
    },
    metrics: { port: spec.metrics.port ?? null, endpoint: spec.metrics.endpoint ?? null },
    store: resolveStore(spec.store, name, baseDir),
    export: { arpa: spec.export.arpa === undefined ? null : resolvePath(spec.export.arpa, baseDir) },
  };
}
