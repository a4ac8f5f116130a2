// Level 3's concept dictionary: for a context, a multi-word span the model is likely to continue
// it with, used as the draft of speculative decoding (speculative.ts). Mined from the model: from
// every stored context, follow the most probable stored follower of the longest stored suffix
// while its probability is at least minProbability, up to maxSpan words; spans of two or more words
// are kept, keyed by the context they follow. A draft only saves store round trips when it is
// right; the verification keeps the output distribution exact whatever the dictionary holds.
import { indexChildren } from '../model/children.js';
import type { LanguageModel } from '../model/language_model.js';
import { ROOT } from '../model/ngram_trie.js';
import { BOS, EOS } from '../model/vocab.js';
import type { ConceptSource } from './speculative.js';

export interface MiningOptions {
  minProbability: number;
  maxSpan: number;
}

export const DEFAULT_MINING: MiningOptions = { minProbability: 0.3, maxSpan: 6 };

/** Spans by context (word ids joined by spaces, oldest first). */
export type ConceptDictionary = Map<string, Int32Array>;

export function contextKeyOf(context: readonly number[]): string {
  return context.join(' ');
}

export function mineConcepts(lm: LanguageModel, opts: MiningOptions = DEFAULT_MINING): ConceptDictionary {
  const { trie, logProb } = lm;
  const { start, nodes } = indexChildren(trie);
  // The most probable stored follower of every context node (-1: none).
  const best = new Int32Array(trie.size).fill(-1);
  for (let h = 0; h < trie.size; h++) {
    let top = -1;
    for (let c = start[h]!; c < start[h + 1]!; c++) {
      const n = nodes[c]!;
      if (Number.isNaN(logProb[n]!) || trie.word[n] === BOS) continue;
      if (top < 0 || logProb[n]! > logProb[top]!) top = n;
    }
    best[h] = top;
  }
  const minLog = Math.log10(opts.minProbability);
  const longestSuffix = (ids: number[]): number => {
    for (let from = Math.max(0, ids.length - (lm.order - 1)); from <= ids.length; from++) {
      const node = from === ids.length ? ROOT : trie.findPath(ids.slice(from));
      if (node >= 0 && best[node]! >= 0) return node;
    }
    return ROOT;
  };
  const out: ConceptDictionary = new Map();
  for (let h = 1; h < trie.size; h++) {
    if (trie.order[h]! >= lm.order || best[h]! < 0 || Number.isNaN(logProb[h]!)) continue;
    const context = trie.path(h);
    const history = [...context];
    const span: number[] = [];
    let node = h;
    while (span.length < opts.maxSpan) {
      const next = best[node]!;
      if (next < 0 || logProb[next]! < minLog) break;
      const word = trie.word[next]!;
      span.push(word);
      if (word === EOS) break;
      history.push(word);
      node = longestSuffix(history);
    }
    if (span.length >= 2) out.set(contextKeyOf(context), Int32Array.from(span));
  }
  return out;
}

/** Drafts from a dictionary in memory: the span of the longest context of the history that has one. */
export class DictionaryConcepts implements ConceptSource {
  constructor(
    private readonly dictionary: ConceptDictionary,
    private readonly order: number,
  ) {}

  knownSpan(history: readonly number[]): Int32Array | undefined {
    for (let len = Math.min(this.order - 1, history.length); len >= 1; len--) {
      const span = this.dictionary.get(contextKeyOf(history.slice(history.length - len)));
      if (span) return span;
    }
    return undefined;
  }

  async spanFor(history: readonly number[]): Promise<Int32Array | undefined> {
    return this.knownSpan(history);
  }
}
