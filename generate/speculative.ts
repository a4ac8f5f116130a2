// Level 3: speculative decoding with concept spans (Leviathan et al. 2023; Chen et al. 2023), for
// a store where every lookup round costs a network round trip. At a history h:
//
//   round 1  the levels of h and the concept dictionary's span for h (d_1 .. d_k), at once (both
//            usually prefetched by the step before: then no round at all);
//   round 2  the levels of h d_1, ..., h d_1 .. d_k, and the span for h d_1 .. d_k, at once;
//   then, with no further lookup, for i = 1 .. k: accept d_i with probability p_i(d_i) (the draft
//   is deterministic, q_i(d_i) = 1, so min(1, p/q) = p); on the first rejection emit a word drawn
//   from p_i without d_i, renormalised, and stop. When all k are accepted the step ends there:
//   the next step starts from h d_1 .. d_k, whose levels and span round 2 already fetched, so a
//   chain of accepted spans costs one round per span.
//
// Each emitted word is distributed exactly as the model (with Levels 1-2 and the controls) gives
// it after the words before it: P(d_i) = p_i(d_i), and any other w gets (1 - p_i(d_i)) *
// p_i(w) / (1 - p_i(d_i)) = p_i(w). So the output distribution is unchanged, while k words can
// cost one round instead of k.
import type { Controls } from './controls.js';
import type { Decoder } from './decoder.js';
import type { SessionCache } from './session_cache.js';

/** Where drafts come from: the span mined for the longest matching context of a history. */
export interface ConceptSource {
  spanFor(history: readonly number[]): Promise<Int32Array | undefined>;
  /** Whether spanFor(history) would answer without asking a store (absent: always). */
  isCached?(history: readonly number[]): boolean;
}

export interface SpanStep {
  controls: Controls;
  generated: readonly number[];
  /** Words that may not come at a position, given how many words are generated before it. */
  bansAt: (generatedCount: number) => readonly number[];
  cache?: SessionCache;
  /** Words that end the text: nothing is drafted past one. */
  stops: readonly number[];
}

export interface SpeculationStats {
  drafts: number;
  drafted: number;
  accepted: number;
}

/** The next words after `history`: one or more, as the comment above says. */
export async function nextWords(decoder: Decoder, concepts: ConceptSource, history: readonly number[], step: SpanStep, stats: SpeculationStats): Promise<number[]> {
  const conceptMissing = !(concepts.isCached?.(history) ?? true);
  const [[levels], span] = await Promise.all([decoder.levelsOf([history], conceptMissing), concepts.spanFor(history)]);
  const cache = step.cache?.clone();
  const positionStep = (out: readonly number[]) => ({ controls: step.controls, generated: [...step.generated, ...out], extraBans: step.bansAt(step.generated.length + out.length), cache });
  const observe = (word: number) => cache?.observeIfCached(word);
  decoder.stats.steps++;
  if (!span || span.length === 0) return [decoder.target(levels!, positionStep([])).draw()];
  stats.drafts++;
  stats.drafted += span.length;
  // Position i + 1 reads h d_1 .. d_i; the last context (all of the span) is the next step's start.
  const contexts = Array.from({ length: span.length }, (_, i) => [...history, ...span.subarray(0, i + 1)]);
  const whole = contexts[contexts.length - 1]!;
  const [spanLevels] = await Promise.all([decoder.levelsOf(contexts, !(concepts.isCached?.(whole) ?? true)), concepts.spanFor(whole)]);
  const out: number[] = [];
  for (let i = 0; i < span.length; i++) {
    const target = decoder.target(i === 0 ? levels! : spanLevels[i - 1]!, positionStep(out));
    const drafted = span[i]!;
    if (decoder.random() < target.probability(drafted)) {
      stats.accepted++;
      out.push(drafted);
      observe(drafted);
      if (step.stops.includes(drafted)) return out;
      continue;
    }
    out.push(target.draw(drafted));
    return out;
  }
  return out;
}
