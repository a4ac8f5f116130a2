// Level 3: speculative decoding with concept spans (after Leviathan et al. 2023; Chen et al.
// 2023), for a store where every lookup round costs a network round trip. At a history h with a
// drafted span d_1 .. d_k (the concept dictionary's span for the longest suffix of h whose span is
// already read, so drafting never waits):
//
//   one round  the levels of h, h d_1, ..., h d_1 .. d_k, all at once; the spans of those histories
//              are read alongside, for later drafts, and not waited for;
//   then, with no further lookup, for i = 0 .. k: draw w from the exact distribution at
//   h d_1 .. d_i (Levels 1-2 and the controls, exactly as plain decoding draws, from the same
//   random stream) and emit it; go on only while w = d_{i+1}.
//
// Verification is coupled to the sampler: a drafted word is accepted exactly when plain decoding
// would have drawn it, with probability p_i(d_{i+1}), the acceptance rate of speculative sampling
// with a deterministic draft. So every emitted word is the word plain decoding emits with the same
// seed, whatever the dictionary holds and whichever spans were read yet: the output is not only
// the same in distribution, it is the same text. What the drafts change is the round trips: a step
// whose first j drafted words match emits j + 1 words for one round; a step whose own word needs no
// store read drafts only as far as the draft's positions are read, so it never costs a round.
import type { Controls } from './controls.js';
import type { StepDecoder } from './decoder.js';
import type { SessionCache } from './session_cache.js';

/** Where drafts come from: the span mined for the longest matching context of a history. */
export interface ConceptSource {
  /** The span for `history` among the spans read so far (synchronous: drafting never waits). */
  knownSpan(history: readonly number[]): Int32Array | undefined;
  /** Reads the spans of `history`'s contexts, so that knownSpan knows them later. */
  spanFor(history: readonly number[]): Promise<Int32Array | undefined>;
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

/** The draft for `history`: its known span, cut after the first stop word. */
function draftFor(concepts: ConceptSource, history: readonly number[], stops: readonly number[]): Int32Array {
  const span = concepts.knownSpan(history) ?? new Int32Array(0);
  const stop = span.findIndex((w) => stops.includes(w));
  return stop >= 0 ? span.subarray(0, stop + 1) : span;
}

/** The next words after `history`: one or more, as the comment above says. */
export async function nextWords<L>(decoder: StepDecoder<L>, concepts: ConceptSource, history: readonly number[], step: SpanStep, stats: SpeculationStats): Promise<number[]> {
  let span = draftFor(concepts, history, step.stops);
  // When the word itself needs no store read, a draft is not worth one: it goes only as far as its
  // positions are read already. So a step never costs a round that plain decoding would not.
  if (!decoder.missing([history])) {
    let read = 0;
    while (read < span.length && !decoder.missing([[...history, ...span.subarray(0, read + 1)]])) read++;
    span = span.subarray(0, read);
  }
  // Position i reads h d_1 .. d_i.
  const contexts = Array.from({ length: span.length + 1 }, (_, i) => [...history, ...span.subarray(0, i)]);
  for (const h of contexts) concepts.spanFor(h).catch(() => undefined);
  const levels = await decoder.levelsOf(contexts);
  if (span.length > 0) {
    stats.drafts++;
    stats.drafted += span.length;
  }
  // Later positions see the earlier words in the session cache, as plain decoding's later steps do.
  const cache = step.cache?.clone();
  const out: number[] = [];
  for (let i = 0; i <= span.length; i++) {
    decoder.stats.steps++;
    const word = decoder.target(levels[i]!, { controls: step.controls, generated: [...step.generated, ...out], extraBans: step.bansAt(step.generated.length + out.length), cache }).draw();
    out.push(word);
    cache?.observeIfCached(word);
    if (i === span.length || word !== span[i] || step.stops.includes(word)) return out;
    stats.accepted++;
  }
  return out;
}
