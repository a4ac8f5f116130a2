// The model is a probability distribution: for contexts of every order, p(w | h) summed over the
// vocabulary (every word but <s>) is 1. Checked on the bundled corpus (always) and on KJV order 5.
import test from 'ava';
import path from 'node:path';
import { NextWordDistribution } from '../model/distribution.js';
import type { LanguageModel } from '../model/language_model.js';
import { seededRandom } from '../model/sample.js';
import { Scorer } from '../model/score.js';
import { BOS } from '../model/vocab.js';
import { buildFromFile } from './helpers/corpus.js';
import { BUNDLED_TRAIN, HAS_SHARED, SHARED, SHARED_SKIP_NOTE } from './helpers/paths.js';

/** Histories ending in stored contexts of each order 0..N-1, drawn at random. */
function sampleHistories(lm: LanguageModel, perOrder: number, seed: number): number[][] {
  const random = seededRandom(seed);
  const byOrder: number[][] = Array.from({ length: lm.order }, () => []);
  for (let n = 1; n < lm.trie.size; n++) {
    const k = lm.trie.order[n];
    if (k < lm.order && byOrder[k].length < 50000) byOrder[k].push(n);
  }
  const out: number[][] = [[BOS]];
  for (let k = 1; k < lm.order; k++) {
    for (let i = 0; i < perOrder && byOrder[k].length; i++) {
      const n = byOrder[k][Math.floor(random() * byOrder[k].length)];
      // Prefix a random word so the history is longer than the context itself.
      out.push([Math.floor(random() * lm.vocab.size), ...lm.trie.path(n)]);
    }
  }
  return out;
}

function check(t: import('ava').ExecutionContext, lm: LanguageModel) {
  const dist = new NextWordDistribution(lm);
  const scorer = new Scorer(lm);
  let worst = 0;
  let worstScorer = 0;
  const histories = sampleHistories(lm, 25, 11);
  for (const h of histories) {
    const p = dist.probabilities(h);
    let sum = 0;
    for (let w = 0; w < p.length; w++) if (w !== BOS) sum += p[w];
    worst = Math.max(worst, Math.abs(sum - 1));
    // The distribution agrees with query-style scoring word by word.
    for (let w = 0; w < p.length; w += 97) {
      if (w === BOS) continue;
      scorer.begin();
      let lp = 0;
      for (const x of h.slice(h[0] === BOS ? 1 : 0)) scorer.score(x);
      lp = scorer.score(w);
      if (h[0] !== BOS) {
        // Without the <s> start, rebuild the state from the history alone.
        lp = scoreAfter(lm, h, w);
      }
      worstScorer = Math.max(worstScorer, Math.abs(Math.log10(p[w]) - lp));
    }
  }
  t.log(`${histories.length} contexts of orders 0..${lm.order - 1}: max |sum - 1| = ${worst.toExponential(2)}, max |distribution - scorer| = ${worstScorer.toExponential(2)}`);
  t.true(worst < 1e-6, `sum differs from 1 by ${worst}`);
  t.true(worstScorer < 1e-9);
}

/** log10 p(w | h) by the textbook definition, independent of Scorer's state machine. */
function scoreAfter(lm: LanguageModel, h: number[], w: number): number {
  const ctx = h.slice(-(lm.order - 1));
  let bo = 0;
  for (let start = 0; start <= ctx.length; start++) {
    const gram = lm.trie.findPath([...ctx.slice(start), w]);
    if (gram >= 0 && !Number.isNaN(lm.logProb[gram])) return lm.logProb[gram] + bo;
    const c = lm.trie.findPath(ctx.slice(start));
    if (c >= 0 && start < ctx.length) bo += lm.backoff[c];
  }
  return lm.logProb[lm.unigramNode[0]] + bo;
}

test('bundled corpus, order 4: p(. | h) sums to 1 for sampled contexts of every order', (t) => {
  check(t, buildFromFile(BUNDLED_TRAIN, 4).lm);
});

if (HAS_SHARED) {
  test('KJV order 5: p(. | h) sums to 1 for sampled contexts of every order', (t) => {
    check(t, buildFromFile(path.join(SHARED, 'corpora', 'kjv.train.txt'), 5).lm);
  });
} else test.skip(`KJV order 5 normalization: ${SHARED_SKIP_NOTE}`, () => {});
