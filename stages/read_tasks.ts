// The read stage's work list: the definition's inputs, each file one ReadTask. A directory becomes
// its files, recursively, in name order, hidden ones skipped (cli/io/inputs.ts expandInputs, as
// `build` reads them); each file is one input index, so positions and batch producer ids name it.
import path from 'node:path';
import { expandInputs } from '../cli/io/inputs.js';
import { InputError } from '../model/errors.js';
import { datasetConfigCandidates, findDatasetConfig } from '../pipeline/definition/dataset_config.js';
import type { InputDefinition } from '../pipeline/definition/definition.js';
import type { ReadTask } from '../schemas/pipeline.js';

/** The largest input index a position can hold (stat_keys.ts encodes it in 16 bits). */
const MAX_INPUTS = 0xffff + 1;

export function listReadTasks(inputs: readonly InputDefinition[], generation: number, batch: number): ReadTask[] {
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`the read batch must be a whole number of lines >= 1, got ${batch}`);
  const tasks: ReadTask[] = [];
  for (const input of inputs) {
    for (const file of expandInputs([input.path])) {
      // A directory's files are shown under the directory as the definition wrote it.
      const written = file === input.path || file === '-' ? input.written : path.join(input.written, path.relative(input.path, file));
      tasks.push({ generation, input: tasks.length, path: file, written, format: input.format, config: configOf(input, file, written), batch, skip: [], only: null });
    }
  }
  if (tasks.length > MAX_INPUTS) {
    throw new InputError(`the inputs hold ${tasks.length} files; a run reads at most ${MAX_INPUTS}`, undefined, undefined, 'concatenate small files, or train in several generations');
  }
  return tasks;
}

/** The dataset config an NDJSON file is framed with: the input's own, else the first found beside the file (dataset_config.ts). */
function configOf(input: InputDefinition, file: string, written: string): string | null {
  if (input.format !== 'ndjson') return null;
  if (input.config !== null) return input.config;
  if (file === '-') throw new InputError('NDJSON on standard input must name its dataset config', written, undefined, 'add `config: FILE.config.json` to the input');
  const found = findDatasetConfig(file);
  if (found !== null) return found;
  const tried = datasetConfigCandidates(file).map((c) => path.basename(c));
  throw new InputError(`no dataset config found beside this NDJSON file (tried ${tried.join(', ')})`, written, undefined, 'write one of those, or name one with `config:` on the input');
}
