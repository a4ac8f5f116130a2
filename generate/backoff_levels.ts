// The contexts the backoff distribution p(. | history) is made of: the stored suffixes of the
// history, longest first, down to the empty context (the unigrams). For a word w,
//
//   p(w | h) = p(w | c_i) * prod_{j < i} backoff(c_j)
//
// where c_0 is the longest stored context and c_i the first (longest) that stores w: exactly how
// scoring reads the model (model/score.ts, KenLM's query), so sampling and scoring agree.
import type { ContextFollowers, ContextSource } from './context_source.js';

/** The stored suffixes of `history` (ids, oldest first), longest first, the unigrams last. */
export async function backoffLevels(source: ContextSource, history: readonly number[]): Promise<ContextFollowers[]> {
  const longest = Math.min(source.order - 1, history.length);
  // Levels the source answers at once (a model file every one; a store what its cache holds, every
  // level of a warm token and most of a cold one's) are taken without a promise each: a warm token
  // from a store allocated 15 KB of V8 heap with them, 7.5 KB without.
  const now = source.followersNow?.bind(source);
  const found: (ContextFollowers | null | Promise<ContextFollowers | null>)[] = [];
  let waits = false;
  // All lengths at once: from the store that is one round trip per token, not one per order.
  for (let len = longest; len >= 0; len--) {
    const context = history.slice(history.length - len);
    const level = now?.(context);
    if (level !== undefined) found.push(level);
    else {
      found.push(source.followers(context));
      waits = true;
    }
  }
  const levels = waits ? await Promise.all(found) : (found as (ContextFollowers | null)[]);
  return levels.filter((level): level is ContextFollowers => level !== null);
}

/** log10 p(word) under the levels (longest context first), as scoring reads it; -Infinity when no level has it. */
export function levelLogProb(levels: readonly ContextFollowers[], word: number): number {
  let scale = 0;
  for (const level of levels) {
    const at = level.words.indexOf(word);
    if (at >= 0) return level.logProbs[at]! + scale;
    scale += level.backoff;
  }
  return -Infinity;
}
