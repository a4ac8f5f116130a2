// Context dimensions: the windows of recent tokens a repeat penalty looks at, counted back from
// the last token (1 = the last token). Two spellings, as the seed's --context-dimensions had:
//
//   span ranges          "1-2,3-5"   windows 1..2 and 3..5
//   progressive lengths  "4,8,4"     consecutive windows of those lengths: 1..4, 5..12, 13..16
//
// A word seen in window j (1-based, in the order written) has its probability divided by
// repeat_penalty^(1/j) (controls.ts): the nearest window costs the full penalty, later ones less.
import { InputError } from '../model/errors.js';

export interface ContextWindow {
  /** First and last distance back from the latest token, inclusive, 1-based. */
  from: number;
  to: number;
}

const RANGE_RE = /^(\d+)-(\d+)$/;
const LENGTH_RE = /^\d+$/;

export function parseContextDimensions(text: string, flag = '--context-dimensions'): ContextWindow[] {
  const parts = text.split(',').map((p) => p.trim());
  const fail = (why: string): never => {
    throw new InputError(`${flag} ${JSON.stringify(text)}: ${why}`, undefined, undefined, 'write span ranges such as 1-2,3-5 or progressive lengths such as 4,8,4');
  };
  if (parts.some((p) => p === '')) fail('an empty dimension');
  if (parts.every((p) => RANGE_RE.test(p))) {
    return parts.map((p) => {
      const [, a, b] = RANGE_RE.exec(p)!;
      const from = Number(a);
      const to = Number(b);
      if (from < 1 || to < from) fail(`the range ${p} must satisfy 1 <= first <= last`);
      return { from, to };
    });
  }
  if (parts.every((p) => LENGTH_RE.test(p))) {
    let next = 1;
    return parts.map((p) => {
      const length = Number(p);
      if (length < 1) fail(`the length ${p} must be at least 1`);
      const window = { from: next, to: next + length - 1 };
      next += length;
      return window;
    });
  }
  return fail('mixes ranges and lengths, or holds something that is neither');
}
