// Pipeline definitions for tests: YAML written to a fresh directory, loaded the way the CLI loads them.
import { spawnSync } from 'node:child_process';
import { loadPipeline, type LoadedPipeline } from '../../pipeline/definition/load.js';
import { formatProblem, sortProblems } from '../../pipeline/definition/problems.js';
import { CLI } from './paths.js';
import { tempDirWith } from './temp_dir.js';

/** A fresh directory holding `files` (name → text; names may have directories). */
export function pipelineDir(files: Record<string, string> = {}): string {
  return tempDirWith('dbslm-pipedef-', files);
}

/** Write `yaml` as DIR/NAME (default kjv.yaml) and load it with `overrides`, from inside DIR so problems name the bare file. */
export function loadYaml(yaml: string, overrides: string[] = [], files: Record<string, string> = {}, name = 'kjv.yaml'): LoadedPipeline & { dir: string } {
  const dir = pipelineDir({ ...files, [name]: yaml });
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    return { ...loadPipeline(name, overrides), dir };
  } finally {
    process.chdir(cwd);
  }
}

/** The problems as the CLI prints them, in its order. */
export function problemLines(loaded: Pick<LoadedPipeline, 'problems'>): string[] {
  return sortProblems(loaded.problems).map(formatProblem);
}

/** Run the real CLI: `dbslm ARGS...` in `cwd`. */
export function dbslm(args: string[], cwd = process.cwd()): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 60000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
