// The phases around counting, as hooks `dbslm pipeline run` calls (run_pipeline.ts):
//   beforeCounting: the store is open, no batch is written yet: the place for the model's meta
//     and reset checks (a store holding another model; `reset: true` clears it). `resuming`
//     says a checkpoint of this same run will be used, so the counts in the store are ours.
//   afterCounting: every batch is committed: smoothing (store/model/smooth smoothModel), export
//     (definition.export.arpa) and evaluate.
// Both are placeholders until those parts are integrated; they only log.
import type { StoreClient } from '../../store/client/client.js';
import type { PipelineDefinition } from '../definition/definition.js';

export interface PhaseContext {
  /** One line for the user (stderr). */
  log(line: string): void;
}

export async function beforeCounting(definition: PipelineDefinition, client: StoreClient, ctx: PhaseContext & { resuming: boolean }): Promise<void> {
  void client;
  if (ctx.resuming) ctx.log(`${definition.name}: resuming counting from the checkpoint`);
}

export async function afterCounting(definition: PipelineDefinition, client: StoreClient, ctx: PhaseContext): Promise<void> {
  void client;
  ctx.log(`${definition.name}: counting complete; smoothing, export and evaluation are not wired into the runtime yet`);
}
