// Running pipeline stages in-process for tests: real files in, every emitted message out, and an
// inline `compute` that calls the task module's functions directly (no pool).
import { from, lastValueFrom, toArray, type Observable, type OperatorFunction } from 'rxjs';
import type { Compute } from '../../stages/stage.js';
import * as tasks from '../../stages/tasks.js';
import { tempDirWith } from './temp_dir.js';

/** A fresh directory holding `files` (name -> text or bytes; names may have directories). */
export function tempFiles(files: Record<string, string | Buffer>): string {
  return tempDirWith('dbslm-stages-', files);
}

/** Everything `stage` emits for `inputs`. */
export function runStage<In, Out>(stage: OperatorFunction<In, Out>, inputs: readonly In[] | Observable<In>): Promise<Out[]> {
  return lastValueFrom((Array.isArray(inputs) ? from(inputs) : (inputs as Observable<In>)).pipe(stage, toArray()));
}

/** compute without a pool: the named task of stages/tasks.ts, called after a tick (so batches really overlap). */
export const inlineCompute: Compute = async <In, Out>(task: string, input: In): Promise<Out> => {
  const fn = (tasks as unknown as Record<string, (input: In) => Out>)[task];
  if (typeof fn !== 'function') throw new Error(`no task ${task} in stages/tasks.ts`);
  await new Promise((resolve) => setImmediate(resolve));
  return fn(input);
};
