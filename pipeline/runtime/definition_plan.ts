// A RuntimePlan from a PipelineDefinition: the counting chain (read -> split [-> parse -> embed]
// -> count, each stage reading the one before), each stage's module and StageConfig, the read
// tasks, the store sink, and where the checkpoint goes:
//   - spawned store: STORE_DATA/NAME.checkpoint (it belongs with the counts it describes);
//   - joined store: beside the ARPA export, else beside the YAML file (NAME.checkpoint).
// smooth, materialise and evaluate are phases after counting (phases.ts), not stage actors.
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../../model/errors.js';
import type { ReadTask, StageMessageName } from '../../schemas/pipeline.js';
import type { InputDefinition, PipelineDefinition, StageName } from '../definition/definition.js';
import { fingerprint } from './checkpoint.js';
import type { RuntimePlan, StagePlan } from './plan.js';

/** The stage implementations, loaded by name (stages/index.ts STAGE_MODULES, stages/tasks.ts, read's listReadTasks). */
export interface StageModules {
  modules: Partial<Record<StageName, string>>;
  /** The piscina task module every stage's compute() runs on (its pool starts on first use); null: none. */
  taskModule: string | null;
  listReadTasks(inputs: InputDefinition[], generation: number, batch: number): ReadTask[];
}

/** The stages that run as actors, in data order, and what each emits. */
const COUNTING: readonly StageName[] = ['read', 'split', 'parse', 'embed', 'count'];
const EMITS: Partial<Record<StageName, StageMessageName>> = { read: 'LineBatch', split: 'SentenceBatch', count: 'CountBatch' };

/** What this run counts, as the model's training runs decide (phases.ts beforeCounting): the read tasks numbered within their generation, and the run id in producer ids. */
export interface CountingChoice {
  tasks: ReadTask[];
  generation: number;
  run: number;
}

export function checkpointPath(d: PipelineDefinition): string {
  const file = `${d.name}.checkpoint`;
  if (d.store.mode === 'spawn') return path.join(d.store.dataDir, file);
  return path.join(d.export.arpa ? path.dirname(d.export.arpa) : d.baseDir, file);
}

/** The read tasks of every input as generation 1 (a counting choice starts from them). */
export function allReadTasks(d: PipelineDefinition, impl: StageModules): ReadTask[] {
  const read = d.stages.find((s) => s.name === 'read')!;
  return impl.listReadTasks(d.inputs, 1, read.batch);
}

export function planFromDefinition(d: PipelineDefinition, impl: StageModules, storeEndpoints: string[], notice: (line: string) => void = () => undefined, choice?: CountingChoice): RuntimePlan {
  const generation = choice?.generation ?? 1;
  if (d.stages.some((s) => s.name === 'requeue')) throw new InputError('stages.requeue: the pipeline runtime does not run feedback stages yet; remove requeue', d.file);
  const chain = d.stages.filter((s) => COUNTING.includes(s.name));
  chain.forEach((s, i) => {
    const before = chain[i - 1];
    const want = before ? [before.name] : [];
    if (JSON.stringify(s.inputs) !== JSON.stringify(want)) {
      throw new InputError(`stages.${s.name}.input: the runtime runs the stages ${chain.map((c) => c.name).join(' -> ')} as a chain, so ${s.name} reads ${want.join('') || 'the inputs'}, not ${s.inputs.join(', ')}`, d.file);
    }
    if (!impl.modules[s.name]) throw new InputError(`stages.${s.name}: this dbslm has no implementation of stage ${s.name} yet; remove it from the pipeline`, d.file);
  });
  const read = chain[0]!;
  if (read.workers > 1) notice(`stages.read.workers: ${read.workers} asked, 1 runs (the read stage is the run's single source)`);
  const stages: StagePlan[] = chain.map((s, i) => ({
    name: s.name,
    workers: i === 0 ? 1 : s.workers,
    module: impl.modules[s.name]!,
    taskModule: impl.taskModule,
    poolSize: s.name === 'count' ? Math.max(1, Math.floor(os.availableParallelism() / s.workers)) : 1,
    config: { stage: s.name, model: d.name, order: d.order, tokenizer: d.tokenizer, strict: d.strict, batch: s.batch, generation },
    emits: i === chain.length - 1 ? null : (EMITS[s.name] ?? null),
    endpoint: s.endpoint,
    host: s.host === null ? null : { name: s.host, address: d.hosts[s.host]!.address },
  }));
  const unknown = stages.find((s, i) => i < stages.length - 1 && s.emits === null);
  if (unknown) throw new InputError(`stages.${unknown.name}: the runtime does not know the message type stage ${unknown.name} emits`, d.file);
  const tasks = choice?.tasks ?? impl.listReadTasks(d.inputs, generation, read.batch);
  const settings = { model: d.name, order: d.order, tokenizer: d.tokenizer, batch: read.batch, generation, run: choice?.run ?? 0, formats: tasks.map((t) => [t.format, t.config]) };
  return {
    name: d.name,
    stages,
    tasks,
    sink: { kind: 'store', endpoints: storeEndpoints, model: d.name, run: choice?.run ?? 0 },
    transport: d.transport,
    checkpoint: tasks.some((t) => t.path === '-') ? null : { file: checkpointPath(d), fingerprint: fingerprint(tasks, settings) },
  };
}
