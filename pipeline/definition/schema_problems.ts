// zod issues as findings that say what was expected and what was got:
// `stages.count.workers: expected an integer >= 1, got "two"`. The expectation is the text each
// schema in schema.ts carries; the "got" is the value at the issue's path in the parsed data.
import type { z } from 'zod';
import { describeValue, type DefinitionPath, type Finding } from './problems.js';

/** A field written with a typo names its closest known field. */
function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  // A third of the word may be wrong (at least one letter): `oder`, `wrokers`, `smoothing` find theirs, `base` finds nothing.
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const k of known) {
    const d = editDistance(word.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next.push(Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    row = next;
  }
  return row[b.length]!;
}

/**
 * The value at `path`, and the path as the data has it: a scalar where a list is accepted (a
 * stage's `input: split`) is one item, so the path [..., 'input', 0] into it stops at 'input'.
 */
export function valueAt(data: unknown, path: DefinitionPath): { value: unknown; path: DefinitionPath } {
  let at: unknown = data;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    if (at !== null && typeof at === 'object') at = (at as Record<string | number, unknown>)[seg];
    else if (seg === 0 && at !== undefined) return { value: at, path: path.slice(0, i) };
    else return { value: undefined, path };
  }
  return { value: at, path };
}

/** zod's own message when a schema has none of ours (should not happen; still say something useful). */
function fallbackExpectation(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') return issue.expected === 'object' ? 'a map' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`;
  return issue.message;
}

export function schemaFindings(issues: readonly z.core.$ZodIssue[], data: unknown): Finding[] {
  const findings: Finding[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      // Our strict maps put their known fields in the message (schema.ts, fields()).
      const known = issue.message.split(', ');
      for (const key of issue.keys) {
        const guess = closest(key, known);
        const hint = guess ? ` (did you mean ${guess}?)` : '';
        findings.push({ path: [...path, key], atKey: true, message: `unknown field${hint}; the fields here are ${issue.message}` });
      }
      continue;
    }
    if (issue.code === 'invalid_key') {
      // A map key that is not a valid name (hosts): the key is what was got.
      const expected = issue.issues[0]?.message ?? 'a valid key';
      findings.push({ path, atKey: true, message: `expected ${expected}, got ${describeValue(path[path.length - 1])}` });
      continue;
    }
    const got = valueAt(data, path);
    if (issue.code === 'custom') {
      findings.push({ path: got.path, message: issue.message });
      continue;
    }
    const expected = issue.message.startsWith('Invalid input') ? fallbackExpectation(issue) : issue.message;
    findings.push({ path: got.path, message: `expected ${expected}, got ${describeValue(got.value)}` });
  }
  return findings;
}
