// The training runs of a model in the store: which generation of text was counted last, with what
// order and tokenizer, and whether that run finished. A pipeline run reads it first to decide
// (planTrainingRun, pure) whether it starts a model, adds text to it (incremental: the next
// generation), resumes a run that was cut off (the same generation: its batches already counted
// are deduplicated by their producer ids), or must refuse because the store holds another model.
import { avroType, decodeAs } from '../../schemas/command.js';
import type { StoreClient } from '../client/client.js';
import { makeKey } from '../protocol/keys.js';
import { modelNamespace } from './layout.js';

export interface TrainingInput {
  /** Absolute path (or - for standard input). */
  path: string;
  bytes: number;
  mtimeMs: number;
}

export interface TrainingRun {
  /** The generation of the last run: 1 for the first text counted into the model, +1 for each run that adds text. */
  generation: number;
  order: number;
  tokenizer: string;
  /** Inputs counted whole by earlier generations: a run naming them again does not count them twice. */
  earlier: TrainingInput[];
  /** The inputs the last run counts (the ones it found new), in its input order. */
  inputs: TrainingInput[];
  /** The last run finished counting (every batch acknowledged). */
  counted: boolean;
  /** Smoothing and materialising finished: the model in the layout includes every counted input. */
  complete: boolean;
  startedMs: number;
}

const TrainingInputType = avroType({
  type: 'record',
  name: 'dbslm.model.TrainingInput',
  fields: [
    { name: 'path', type: 'string' },
    { name: 'bytes', type: 'long' },
    { name: 'mtimeMs', type: 'double' },
  ],
});

export const TrainingRunType = avroType({
  type: 'record',
  name: 'dbslm.model.TrainingRun',
  fields: [
    { name: 'generation', type: 'int' },
    { name: 'order', type: 'int' },
    { name: 'tokenizer', type: 'string' },
    { name: 'earlier', type: { type: 'array', items: TrainingInputType } },
    { name: 'inputs', type: { type: 'array', items: TrainingInputType } },
    { name: 'counted', type: 'boolean' },
    { name: 'complete', type: 'boolean' },
    { name: 'startedMs', type: 'double' },
  ],
});

export function trainingRunKey(model: string): Buffer {
  return makeKey(modelNamespace(model, 'run'), Buffer.alloc(0));
}

export async function readTrainingRun(client: StoreClient, model: string): Promise<TrainingRun | undefined> {
  const value = await client.get(trainingRunKey(model));
  if (value === undefined) return undefined;
  if (typeof value === 'bigint') throw new Error(`the training-run key of model ${model} holds a counter, not a run record`);
  return decodeAs<TrainingRun>(TrainingRunType, value, `training run of model ${model}`);
}

export async function writeTrainingRun(client: StoreClient, model: string, run: TrainingRun): Promise<void> {
  await client.batch([{ op: 'set', key: trainingRunKey(model), value: TrainingRunType.toBuffer(run) }]);
}

export type RunPlan =
  /** Count `inputs` as generation `generation` (a new model, new text for a model, or a cut-off run resumed: its counted batches are deduplicated). */
  | { kind: 'count'; generation: number; inputs: TrainingInput[]; resume: boolean; reset: boolean }
  /** Every input was counted already: nothing to count; smooth again only if the last run did not finish. */
  | { kind: 'unchanged'; generation: number; smooth: boolean }
  | { kind: 'refuse'; reason: string };

const sameInput = (a: TrainingInput, b: TrainingInput) => a.path === b.path && a.bytes === b.bytes && a.mtimeMs === b.mtimeMs;
const sameInputs = (a: readonly TrainingInput[], b: readonly TrainingInput[]) => a.length === b.length && a.every((x, i) => sameInput(x, b[i]!));

/**
 * What a run of (order, tokenizer, inputs) does given the model's last run: start afresh when there
 * is none (or on `reset`); resume a run cut off while counting the same new inputs; count only the
 * inputs no earlier run counted, as the next generation (incremental training); do nothing new when
 * all were counted; refuse when the model has another order or tokenizer, or a cut-off run counted
 * other inputs (its counts are partial).
 */
export function planTrainingRun(previous: TrainingRun | undefined, wanted: { order: number; tokenizer: string; inputs: TrainingInput[]; reset: boolean }, model: string): RunPlan {
  if (!previous || wanted.reset) return { kind: 'count', generation: 1, inputs: wanted.inputs, resume: false, reset: !!previous };
  if (previous.order !== wanted.order || previous.tokenizer !== wanted.tokenizer) {
    return {
      kind: 'refuse',
      reason:
        `the store holds model "${model}" of order ${previous.order} with the ${previous.tokenizer} tokenizer; this run is order ${wanted.order} with ${wanted.tokenizer}. ` +
        'Set reset: true (or --set reset=true) to clear it, or name another model (name: in the YAML)',
    };
  }
  const fresh = wanted.inputs.filter((input) => !previous.earlier.some((e) => sameInput(e, input)));
  if (!previous.counted) {
    if (sameInputs(fresh, previous.inputs)) return { kind: 'count', generation: previous.generation, inputs: fresh, resume: true, reset: false };
    return {
      kind: 'refuse',
      reason:
        `a run counting other inputs into model "${model}" (generation ${previous.generation}: ${previous.inputs.map((i) => i.path).join(', ')}) did not finish, so its counts are partial. ` +
        'Run it again with those inputs to finish it, or set reset: true to start the model afresh',
    };
  }
  const unseen = fresh.filter((input) => !previous.inputs.some((e) => sameInput(e, input)));
  if (unseen.length === 0) return { kind: 'unchanged', generation: previous.generation, smooth: !previous.complete };
  return { kind: 'count', generation: previous.generation + 1, inputs: unseen, resume: false, reset: false };
}

/** The run record a plan starts with. */
export function startedRun(previous: TrainingRun | undefined, plan: Extract<RunPlan, { kind: 'count' }>, order: number, tokenizer: string): TrainingRun {
  const earlier = plan.reset || !previous ? [] : plan.resume ? previous.earlier : [...previous.earlier, ...previous.inputs];
  return { generation: plan.generation, order, tokenizer, earlier, inputs: plan.inputs, counted: false, complete: false, startedMs: Date.now() };
}
