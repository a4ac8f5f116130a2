// The store writes that count a batch of sentences (stat_keys.ts), aggregated over the batch: what
// the pipeline's count stage sends to the store actors. Pure: sentences in, ops out.
//
// Each sentence is <s> w1 ... wn </s> (no </s> for a last line without a final newline, as lmplz),
// and every n-gram of orders 1..N that ends in it and does not reach before its <s> is seen, as
// model/corpus_count.ts sees them. For each such window W of order m:
//   - RAW += 1 when m = N or W starts with <s> (the n-grams whose adjusted count is their count);
//   - LEFT (W[1..], W[0]) when m >= 2: W[0] precedes the lower-order n-gram W[1..];
// and each word's first position in the batch is a FIRST key. RAW increments must be applied
// exactly once (the runtime sends them as exactly-once batches); LEFT and FIRST are idempotent.
import { BOS_TOKEN, EOS_TOKEN } from '../../model/vocab.js';
import { firstKey, leftKey, rawKey, type Position } from './stat_keys.js';

export interface CountedSentence {
  /** The words, without <s> and </s>. */
  tokens: readonly string[];
  /** Whether the sentence ends with </s> (false only for a last line without a final newline). */
  eos: boolean;
  /** Where the sentence starts; token i of it is at { ...position, token: i }. */
  position: Omit<Position, 'token'>;
}

export interface StatOps {
  /** RAW counters to increase: apply each exactly once. */
  incrs: { key: Buffer; delta: number }[];
  /** LEFT and FIRST keys to set to the empty value (idempotent). */
  sets: Buffer[];
  /** Words counted (the sentences' tokens, without <s> and </s>). */
  words: number;
}

// Windows are gathered under a string key (words joined by \0, which no word contains) before any
// Buffer is built: a batch repeats most of its n-grams, and only the distinct ones become keys.
const SEP = '\0';

export function statOpsOf(model: string, order: number, sentences: readonly CountedSentence[]): StatOps {
  const raw = new Map<string, number>();
  const left = new Set<string>();
  const first = new Map<string, Position>();
  let words = 0;
  const stream: string[] = [];
  for (const sentence of sentences) {
    stream.length = 0;
    stream.push(BOS_TOKEN, ...sentence.tokens);
    if (sentence.eos) stream.push(EOS_TOKEN);
    words += sentence.tokens.length;
    sentence.tokens.forEach((word, token) => {
      if (!first.has(word)) first.set(word, { ...sentence.position, token });
    });
    for (let i = 0; i < stream.length; i++) {
      const top = Math.min(i + 1, order);
      for (let m = 1; m <= top; m++) {
        const start = i - m + 1;
        if (m === order || stream[start] === BOS_TOKEN) {
          const key = stream.slice(start, i + 1).join(SEP);
          raw.set(key, (raw.get(key) ?? 0) + 1);
        }
        if (m >= 2) left.add(stream.slice(start, i + 1).join(SEP));
      }
    }
  }
  const incrs = [...raw].map(([joined, delta]) => ({ key: rawKey(model, joined.split(SEP)), delta }));
  const sets: Buffer[] = [];
  for (const joined of left) {
    const window = joined.split(SEP);
    sets.push(leftKey(model, window.slice(1), window[0]!));
  }
  for (const [word, position] of first) sets.push(firstKey(model, word, position));
  return { incrs, sets, words };
}
