// Where the runtime finds the stage modules by name: each exports `createStage(config, compute)`
// (stage_config.ts CreateStage), imported in the worker thread that hosts the stage. URLs only:
// this module loads none of them.
import type { StageName } from '../pipeline/definition/schema.js';

export const STAGE_MODULES: Partial<Record<StageName, string>> = {
  read: new URL('./read.js', import.meta.url).href,
  split: new URL('./split.js', import.meta.url).href,
  count: new URL('./count.js', import.meta.url).href,
};

/** The piscina worker file that backs every stage's `compute` (its named exports are the tasks). */
export const STAGE_TASKS_MODULE = new URL('./tasks.js', import.meta.url).href;
