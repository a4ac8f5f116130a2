// The phases around counting, as hooks `dbslm pipeline run` calls (run_pipeline.ts):
//   beforeCounting: the store is open, no batch is written yet. The model's last training run
//     (store/model/training_run.ts) decides what this run counts: every input (a new model, or
//     `reset: true`, which first clears the model), only the inputs no earlier run counted (the
//     next generation: incremental training), the same inputs again under the same generation (a
//     run cut off while counting: its committed batches are deduplicated), or nothing (all counted).
//     A store holding the model with another order or tokenizer is refused.
//   afterCounting: every batch is committed: smooth and materialise (store/model/smooth, its Top-K
//     heads store/model/topk), write the ARPA export, and evaluate (held-out perplexity, samples)
//     on the model read back.
import fs from 'node:fs';
import zlib from 'node:zlib';
import type { ReadTask } from '../../schemas/pipeline.js';
import type { StoreClient } from '../../store/client/client.js';
import { deleteModelKeys } from '../../store/model/model_delete.js';
import { readModel } from '../../store/model/read_model.js';
import { smoothModel, type SmoothResult } from '../../store/model/smooth/smooth_model.js';
import { planTrainingRun, readTrainingRun, startedRun, writeTrainingRun, type TrainingInput, type TrainingRun } from '../../store/model/training_run.js';
import { evaluateModel, type EvaluateReport } from '../../stages/evaluate.js';
import { writeStoreArpa } from '../../cli/io/store_arpa.js';
import { InputError } from '../../model/errors.js';
import { stageNamed, type PipelineDefinition } from '../definition/definition.js';
import type { CountingChoice } from './definition_plan.js';

export interface PhaseContext {
  /** One line for the user (stderr). */
  log(line: string): void;
}

/** What beforeCounting decided: what to count (tasks numbered 0.. within the generation; none: nothing to count) and the run id of producer ids (the same across a resume, new after a reset or for new text). */
export interface CountingPlan extends CountingChoice {
  /** Smoothing is needed after counting (false only when nothing changed since a finished run). */
  smooth: boolean;
  record: TrainingRun | null;
}

function inputOf(task: ReadTask): TrainingInput {
  // Standard input is new text every time: no earlier run can have counted it.
  if (task.path === '-') return { path: '-', bytes: 0, mtimeMs: Date.now() };
  const st = fs.statSync(task.path);
  return { path: task.path, bytes: st.size, mtimeMs: st.mtimeMs };
}

export async function beforeCounting(definition: PipelineDefinition, client: StoreClient, tasks: ReadTask[], ctx: PhaseContext): Promise<CountingPlan> {
  const model = definition.name;
  const previous = await readTrainingRun(client, model);
  const inputs = tasks.map(inputOf);
  const plan = planTrainingRun(previous, { order: definition.order, tokenizer: definition.tokenizer, inputs, reset: definition.reset }, model);
  if (plan.kind === 'refuse') throw new InputError(plan.reason, definition.file);
  if (plan.kind === 'unchanged') {
    ctx.log(`${model}: every input was counted already (generation ${plan.generation}); ${plan.smooth ? 'smoothing again' : 'nothing to count'}`);
    return { tasks: [], generation: plan.generation, run: previous!.startedMs, smooth: plan.smooth, record: previous! };
  }
  if (plan.reset) {
    ctx.log(`${model}: reset: deleting the model's counts and entries from the store`);
    await deleteModelKeys(client, model);
  }
  const run = startedRun(plan.reset ? undefined : previous, plan, definition.order, definition.tokenizer);
  if (plan.resume) run.startedMs = previous!.startedMs;
  await writeTrainingRun(client, model, run);
  const chosen = plan.inputs.map((input) => tasks[inputs.findIndex((i) => i.path === input.path && i.bytes === input.bytes && i.mtimeMs === input.mtimeMs)]!);
  if (plan.resume) ctx.log(`${model}: resuming generation ${plan.generation} (its committed batches are not counted twice)`);
  else if (plan.generation > 1) ctx.log(`${model}: adding ${chosen.length} new input${chosen.length === 1 ? '' : 's'} as generation ${plan.generation}; ${tasks.length - chosen.length} counted before`);
  return {
    tasks: chosen.map((task, i) => ({ ...task, input: i, generation: plan.generation })),
    generation: plan.generation,
    run: run.startedMs,
    smooth: true,
    record: run,
  };
}

export interface FinishReport {
  smooth: SmoothResult | null;
  arpa: { path: string; bytes: number } | null;
  evaluation: EvaluateReport | null;
  phaseMs: Record<string, number>;
}

function readTestLines(file: string): string[] {
  let bytes = fs.readFileSync(file);
  if (file.endsWith('.gz')) bytes = zlib.gunzipSync(bytes);
  const text = bytes.toString('utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export async function afterCounting(definition: PipelineDefinition, client: StoreClient, counting: CountingPlan, ctx: PhaseContext): Promise<FinishReport> {
  const model = definition.name;
  const phaseMs: Record<string, number> = {};
  const timed = async <T>(phase: string, work: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      return await work();
    } finally {
      phaseMs[phase] = performance.now() - start;
    }
  };
  let smooth: SmoothResult | null = null;
  const materialise = stageNamed(definition, 'materialise');
  if (counting.smooth) {
    smooth = await timed('smooth', () =>
      smoothModel(client, {
        model,
        order: definition.order,
        tokenizer: definition.tokenizer,
        discountFallback: definition.discountFallback,
        source: `pipeline:${model}`,
        onPhase: (phase) => ctx.log(`${model}: ${phase}`),
        // The materialise stage's Top-K heads, written before the model's meta is complete.
        topk: materialise && { k: materialise.k, bits: materialise.bits },
      }),
    );
    if (counting.record) await writeTrainingRun(client, model, { ...counting.record, counted: true, complete: true });
  }
  let arpa: FinishReport['arpa'] = null;
  if (definition.export.arpa) {
    const target = definition.export.arpa;
    // Streamed from the store, never the whole model in memory (store/model/arpa_export.ts).
    arpa = await timed('export', async () => {
      const { bytes } = await writeStoreArpa(client, model, target, { where: 'the pipeline store', warn: (m) => ctx.log(`${model}: ${m}`) });
      return { path: target, bytes };
    });
    ctx.log(`${model}: wrote ${target} (${(arpa.bytes / 1e6).toFixed(1)} MB)`);
  }
  const evaluate = stageNamed(definition, 'evaluate');
  let evaluation: EvaluateReport | null = null;
  if (evaluate) {
    // Values as the exported ARPA reads them, so it prints what `ppl --arpa` of the export would.
    const m = (await readModel(client, model, { where: 'the pipeline store', asArpa: true })).lm;
    evaluation = await timed('evaluate', async () =>
      evaluateModel({
        lm: m,
        tokenizer: definition.tokenizer,
        tests: evaluate.test.map((input) => ({ file: input.written, lines: readTestLines(input.path) })),
        samples: evaluate.samples,
        seed: evaluate.seed ?? Math.floor(Math.random() * 2 ** 31),
      }),
    );
  }
  return { smooth, arpa, evaluation, phaseMs };
}
