// The test stage set as `pipeline run --stage-modules` loads it: stage name -> module URL, the
// read tasks (one per input file), and the task module.
import type { InputDefinition } from '../../../pipeline/definition/definition.js';
import type { ReadTask } from '../../../schemas/pipeline.js';

const url = (file: string) => new URL(`./${file}`, import.meta.url).href;

export const STAGE_MODULES = { read: url('source_lines.js'), split: url('split_words.js'), count: url('count_ops.js') };
export const STAGE_TASKS_MODULE = url('count_tasks.js');

export function listReadTasks(inputs: InputDefinition[], generation: number, batch: number): ReadTask[] {
  return inputs.map((i, input) => ({ generation, input, path: i.path, written: i.written, format: i.format, config: i.config, batch, skip: [], only: null }));
}
