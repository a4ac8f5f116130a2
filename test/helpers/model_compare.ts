// Two LanguageModels compared n-gram by n-gram: the same vocabulary in the same id order, the same
// n-grams of every order, and log10 p and backoff within a tolerance. Mismatches are counted and
// the first few named, so one assertion reports a whole model.
import type { ExecutionContext } from 'ava';
import { arpaChunks } from '../../model/arpa_write.js';
import { entryCounts, type LanguageModel } from '../../model/language_model.js';

export function assertSameModel(t: ExecutionContext, got: LanguageModel, want: LanguageModel, tolerance: number): void {
  t.deepEqual(got.vocab.words, want.vocab.words, 'the same vocabulary in the same id order');
  t.deepEqual(entryCounts(got), entryCounts(want), 'n-grams per order');
  let missing = 0;
  let off = 0;
  let worst = 0;
  const examples: string[] = [];
  const { trie } = want;
  for (let n = 1; n < trie.size; n++) {
    if (Number.isNaN(want.logProb[n]!)) continue;
    const path = trie.path(n);
    const name = () => path.map((id) => want.vocab.words[id]).join(' ');
    const m = got.trie.findPath(path);
    if (m < 0 || Number.isNaN(got.logProb[m]!)) {
      missing++;
      if (examples.length < 5) examples.push(`missing: ${name()}`);
      continue;
    }
    const d = Math.max(Math.abs(got.logProb[m]! - want.logProb[n]!), Math.abs(got.backoff[m]! - want.backoff[n]!));
    if (!(d <= tolerance)) {
      off++;
      if (examples.length < 5) examples.push(`${name()}: log10 p ${got.logProb[m]} vs ${want.logProb[n]}, backoff ${got.backoff[m]} vs ${want.backoff[n]}`);
    }
    if (d > worst) worst = d;
  }
  t.is(missing, 0, `n-grams missing: ${examples.join('; ')}`);
  t.is(off, 0, `n-grams off by more than ${tolerance} (worst ${worst}): ${examples.join('; ')}`);
}

/** The ARPA text of a model as `dbslm export` formats it. */
export function arpaText(lm: LanguageModel): Buffer {
  return Buffer.concat([...arpaChunks(lm, entryCounts(lm))].map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
}
