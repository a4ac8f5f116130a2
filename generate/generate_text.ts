// Generating text: words drawn one at a time until a stop word (</s>, |END|), a user's stop
// string, or the maximum length, as an async iterator of the words a user sees. Structural
// markers (|USER|:, |CTX|:key:value, ...) steer the model but are never shown.
import { detokenize } from '../model/detokenize.js';
import { isMarkerToken } from '../model/tokenize_regex.js';
import { BOS, EOS, UNK } from '../model/vocab.js';
import type { Controls } from './controls.js';
import type { StepDecoder } from './decoder.js';
import { SessionCache } from './session_cache.js';
import { nextWords, type ConceptSource, type SpeculationStats } from './speculative.js';

/** The words of a model, by id and by text. */
export interface VocabView {
  readonly size: number;
  /** The id of a word, or UNK (0) when the model does not know it. */
  lookup(word: string): number;
  word(id: number): string;
}

export const END_TOKEN = '|END|';

export interface GenerateOptions {
  controls: Controls;
  /** Stop after this many words (markers included). */
  maxTokens: number;
  /** Stop words cannot end the text before this many words. */
  minTokens: number;
  /** Stop when the visible text contains one of these; the text ends before it. */
  stopStrings: readonly string[];
  /** A session cache mixed into the distribution; each generated word joins it. */
  cache?: SessionCache;
  /** Level 3: drafts verified speculatively (speculative.ts); the output distribution is the same. */
  concepts?: ConceptSource;
  speculation?: SpeculationStats;
}

export interface GeneratedWord {
  /** The word as the model stores it. */
  token: string;
  id: number;
  /** Whether a user sees it (false for markers). */
  visible: boolean;
}

/** The stop words of a model: </s>, and |END| when the model knows it. */
export function stopWords(vocab: VocabView): number[] {
  const end = vocab.lookup(END_TOKEN);
  return end === UNK ? [EOS] : [EOS, end];
}

/** The history the first word is drawn after: the context, or <s> when it is empty. */
export function startHistory(context: readonly number[]): number[] {
  return context.length === 0 ? [BOS] : [...context];
}

/**
 * Words generated after `context` (ids, oldest first; start a sentence with <s>). Ends at a stop
 * word (not yielded), the maximum length, or a stop string: the word completing it is the last
 * yielded, and visibleText cuts the text before the stop string.
 */
export async function* generateWords(decoder: StepDecoder, vocab: VocabView, context: readonly number[], opts: GenerateOptions): AsyncGenerator<GeneratedWord> {
  const history = startHistory(context);
  const stops = stopWords(vocab);
  const generated: number[] = [];
  const shown: string[] = [];
  opts.cache?.setVocab((id) => vocab.word(id));
  const bansAt = (count: number) => (count < opts.minTokens ? stops : []);
  while (generated.length < opts.maxTokens) {
    // Level 3 may give several words at once; each is processed as if drawn alone.
    const ids = opts.concepts
      ? await nextWords(decoder, opts.concepts, history, { controls: opts.controls, generated, bansAt, cache: opts.cache, stops }, opts.speculation ?? { drafts: 0, drafted: 0, accepted: 0 })
      : [await decoder.next(history, opts.controls, generated, bansAt(generated.length), opts.cache)];
    for (const id of ids) {
      if (stops.includes(id)) return;
      const token = vocab.word(id);
      const visible = !isMarkerToken(token) && id !== BOS;
      generated.push(id);
      history.push(id);
      if (opts.cache && SessionCache.caches(id, token)) opts.cache.observe(id);
      yield { token, id, visible };
      if (visible && opts.stopStrings.length > 0) {
        shown.push(token);
        const text = detokenize(shown);
        if (opts.stopStrings.some((s) => s !== '' && text.includes(s))) return;
      }
      if (generated.length >= opts.maxTokens) return;
    }
  }
}

/** The text a user sees of generated words, cut before the first stop string. */
export function visibleText(words: readonly GeneratedWord[], stopStrings: readonly string[] = []): string {
  let text = detokenize(words.filter((w) => w.visible).map((w) => w.token));
  for (const s of stopStrings) {
    const at = s === '' ? -1 : text.indexOf(s);
    if (at >= 0) text = text.slice(0, at);
  }
  return text.trimEnd();
}
