// What is wrong with a pipeline definition, and where. Every check (YAML syntax, schema, --set
// overrides, topology, environment) reports problems in this one shape, so the CLI can print them
// all at once, one per line, as `FILE:LINE:COL PATH: MESSAGE` (editors jump to FILE:LINE:COL).
import { InputError } from '../../model/errors.js';

/** A path into the definition: keys of maps and indices of lists, e.g. ['inputs', 0, 'path']. */
export type DefinitionPath = readonly (string | number)[];

/** Where a problem is to be fixed: a position in a file, or a `--set` argument (the index-th, from 0). */
export type ProblemSource = { kind: 'file'; file: string; line: number; column: number } | { kind: 'override'; argument: string; index: number };

/** Which check found the problem (the message is the same shape for all). */
export type ProblemKind = 'yaml' | 'schema' | 'override' | 'topology' | 'environment';

export interface Problem {
  kind: ProblemKind;
  source: ProblemSource;
  /** The definition path as text (`stages.count.workers`, `inputs[0].path`), or a (parenthesised) note such as `(syntax)`. */
  path: string;
  message: string;
}

/** A problem found by a check that knows the path but not where that path is written: load.ts places it. */
export interface Finding {
  path: DefinitionPath;
  message: string;
  /** Point at the key rather than the value (for a key that should not be there). */
  atKey?: boolean;
}

/** `stages.count.workers`, `inputs[0].path`; the empty path is the whole document. */
export function formatPath(path: DefinitionPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out === '' ? '(top level)' : out;
}

export function formatSource(source: ProblemSource): string {
  return source.kind === 'file' ? `${source.file}:${source.line}:${source.column}` : `--set ${JSON.stringify(source.argument)}`;
}

export function formatProblem(p: Problem): string {
  return `${formatSource(p.source)} ${p.path}: ${p.message}`;
}

/** A value as a message shows what was got: strings quoted, collections by kind. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'an empty value';
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v);
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : 'a list';
  if (typeof v === 'object') return 'a map';
  return String(v);
}

/** Problems in reading order: --set arguments first (in command-line order), then each file (in order of first mention) top to bottom. */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  const fileRank = new Map<string, number>();
  for (const p of problems) if (p.source.kind === 'file' && !fileRank.has(p.source.file)) fileRank.set(p.source.file, fileRank.size);
  const key = (p: Problem): number[] => (p.source.kind === 'override' ? [-1, p.source.index, 0] : [fileRank.get(p.source.file)!, p.source.line, p.source.column]);
  return [...problems].sort((a, b) => {
    const [ka, kb] = [key(a), key(b)];
    return ka[0]! - kb[0]! || ka[1]! - kb[1]! || ka[2]! - kb[2]!;
  });
}

/** The definition could not be used; carries every problem found. */
export class DefinitionError extends InputError {
  constructor(
    readonly problems: readonly Problem[],
    what: string,
  ) {
    super(`${problems.length} problem${problems.length === 1 ? '' : 's'} in ${what}; nothing was started`);
    this.name = 'DefinitionError';
  }
}
