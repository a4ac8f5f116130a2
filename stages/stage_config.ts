// What a stage actor is started with: plain JSON data the coordinator sends to the worker thread
// that hosts the stage, so every stage module can be created from it by name (createStage).
import type { TokenizerName } from '../model/tokenizer.js';
import type { StageName } from '../pipeline/definition/schema.js';
import type { Compute, Stage } from './stage.js';

export interface StageConfig {
  stage: StageName;
  /** The model's name: the store namespaces (`<model>.stat`) and batch producer ids use it. */
  model: string;
  /** The n-gram order N. */
  order: number;
  tokenizer: TokenizerName;
  /** A bad corpus line stops the pipeline (an Observable error naming file:line) instead of being skipped and counted. */
  strict: boolean;
  /** Items per message this stage emits (read: lines per batch). */
  batch: number;
  /** The run generation (incremental runs add generations); part of every batch's origin. */
  generation: number;
  /** Tasks this stage keeps in flight on its compute pool at once; absent: the stage's default. */
  concurrency?: number;
}

/** The uniform entry every stage module exports, which the runtime calls after importing the module by name (index.ts). */
export type CreateStage = (config: StageConfig, compute: Compute) => Stage<any, any>;
