// Linear mixing of models (model/mix/): the exact mixture is a distribution and scores as its
// definition says, EM finds weights no grid point beats, and the static mixed model is a
// normalized backoff model that equals the exact mixture on its stored n-grams. Two order-3 models
// of the two halves of the bundled corpus (so their vocabularies differ) and an order-2 one.
import test from 'ava';
import fs from 'node:fs';
import { NextWordDistribution } from '../model/distribution.js';
import type { LanguageModel } from '../model/language_model.js';
import { ComponentScorer } from '../model/mix/component_probabilities.js';
import { tuneWeights } from '../model/mix/em_weights.js';
import { MixtureDistribution } from '../model/mix/mixture_distribution.js';
import { staticMix } from '../model/mix/static_mix.js';
import { UnionVocab } from '../model/mix/union_vocab.js';
import { seededRandom } from '../model/sample.js';
import { perplexity, Scorer } from '../model/score.js';
import { BOS, UNK } from '../model/vocab.js';
import { buildFromText } from './helpers/corpus.js';
import { BUNDLED_TEST, BUNDLED_TRAIN } from './helpers/paths.js';

const train = fs.readFileSync(BUNDLED_TRAIN, 'utf8').split('\n');
const half = Math.floor(train.length / 2);
const first = buildFromText(train.slice(0, half).join('\n') + '\n', 3).lm;
const second = buildFromText(train.slice(half).join('\n') + '\n', 3).lm;
const bigram = buildFromText(train.slice(half).join('\n') + '\n', 2).lm;
const heldOut = fs.readFileSync(BUNDLED_TEST, 'utf8').split('\n').filter((l) => l.trim() !== '');
const dev = heldOut.slice(0, 200);
const testLines = heldOut.slice(200, 260);

const ids = (union: UnionVocab, line: string) => line.trim().split(/\s+/).map((w) => union.vocab.lookup(w));

function scoreText(union: UnionVocab, lines: string[]) {
  const scorer = new ComponentScorer(union);
  for (const line of lines) scorer.sentence(ids(union, line));
  return scorer.result;
}

/** Histories from the text: every prefix of a few sentences, starting with <s>. */
function histories(union: UnionVocab, lines: string[]): number[][] {
  const out: number[][] = [];
  for (const line of lines.slice(0, 6)) {
    const words = ids(union, line);
    for (let i = 0; i <= words.length; i += 3) out.push([BOS, ...words.slice(0, i)]);
  }
  return out;
}

function sumOver(p: Float64Array): number {
  let sum = 0;
  for (let w = 0; w < p.length; w++) if (w !== BOS) sum += p[w]!;
  return sum;
}

test('the vocabularies differ, so the union matters', (t) => {
  const union = new UnionVocab([first, second]);
  t.true(union.size > first.vocab.size && union.size > second.vocab.size);
  t.true(union.toModel[0]!.some((id) => id < 0) && union.toModel[1]!.some((id) => id < 0));
});

test('one model alone: the mixture scores exactly as the model does', (t) => {
  const union = new UnionVocab([first]);
  const mixed = perplexity(scoreText(union, dev).sentenceScores([1]));
  const scorer = new Scorer(first);
  const alone = perplexity(dev.map((line) => scorer.sentence(line.trim().split(/\s+/).map((w) => first.vocab.lookup(w)))));
  t.is(mixed.oov, alone.oov);
  t.is(mixed.tokens, alone.tokens);
  t.true(Math.abs(mixed.total - alone.total) < 1e-9 * Math.abs(alone.total), `${mixed.total} vs ${alone.total}`);
});

test('the exact mixture sums to 1 over the union vocabulary, and scoring reads the same numbers', (t) => {
  const union = new UnionVocab([first, bigram]);
  const weights = Float64Array.of(0.3, 0.7);
  const mixture = new MixtureDistribution(union, weights);
  let worst = 0;
  for (const h of histories(union, dev)) worst = Math.max(worst, Math.abs(sumOver(mixture.probabilities(h)) - 1));
  t.true(worst < 1e-9, `worst |sum - 1| = ${worst}`);

  // Token by token, the scorer's mixture equals the distribution's entry (OOV words as <unk>).
  // A line with a word only one component knows and a word none knows.
  const line = dev.find((l) => ids(union, l).some((w) => union.toModel[0]![w]! < 0 !== union.toModel[1]![w]! < 0) && ids(union, l).some((w) => union.isOov(w)))!;
  t.truthy(line);
  const words = ids(union, line);
  const scored = scoreText(union, [line]);
  let oovSeen = 0;
  for (let i = 0; i < words.length; i++) {
    const p = mixture.probabilities([BOS, ...words.slice(0, i)]);
    const w = union.isOov(words[i]!) ? UNK : words[i]!;
    if (w === UNK) oovSeen++;
    t.true(Math.abs(Math.log10(scored.mixture(i, weights)) - Math.log10(p[w]!)) < 1e-9, `token ${i}`);
  }
  t.is(scored.oov.subarray(0, words.length).reduce((a, b) => a + b, 0), oovSeen);
});

test('draws follow the mixture: a fixed seed repeats, and words only one component knows appear', (t) => {
  const union = new UnionVocab([first, second]);
  const mixture = new MixtureDistribution(union, Float64Array.of(0.5, 0.5));
  const a = Array.from({ length: 30 }, (_, i) => mixture.sentence(20, seededRandom(100 + i)));
  const b = Array.from({ length: 30 }, (_, i) => mixture.sentence(20, seededRandom(100 + i)));
  t.deepEqual(a, b);
  const onlyFirst = a.flat().some((w) => union.toModel[1]![w]! < 0);
  const onlySecond = a.flat().some((w) => union.toModel[0]![w]! < 0);
  t.true(onlyFirst && onlySecond, 'both components contribute words of their own');
});

test('EM weights beat every weight of a grid on DEV, and lower the perplexity of held-out text', (t) => {
  const union = new UnionVocab([first, second]);
  const onDev = scoreText(union, dev);
  const tuned = tuneWeights(onDev);
  t.true(Math.abs(tuned.weights.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  const emPpl = perplexity(onDev.sentenceScores(tuned.weights)).includingOov;
  for (let g = 0.05; g < 1; g += 0.05) {
    const gridPpl = perplexity(onDev.sentenceScores([g, 1 - g])).includingOov;
    t.true(emPpl <= gridPpl + 1e-9, `EM ${emPpl} (weights ${tuned.weights.join(',')}) vs grid ${g.toFixed(2)}: ${gridPpl}`);
  }
  // Mixing two halves beats either half alone on text neither saw.
  const onTest = scoreText(union, testLines);
  const mixedPpl = perplexity(onTest.sentenceScores(tuned.weights)).includingOov;
  for (const alone of [Float64Array.of(1, 0), Float64Array.of(0, 1)]) {
    t.true(mixedPpl < perplexity(onTest.sentenceScores(alone)).includingOov);
  }
});

function checkStatic(t: import('ava').ExecutionContext, models: LanguageModel[], weights: Float64Array) {
  const union = new UnionVocab(models);
  const { lm, counts, saturated } = staticMix(union, weights);
  t.is(saturated, 0);
  t.is(lm.order, Math.max(...models.map((m) => m.order)));
  const dist = new NextWordDistribution(lm);
  let worst = 0;
  for (const h of histories(union, dev)) worst = Math.max(worst, Math.abs(sumOver(dist.probabilities(h)) - 1));
  t.true(worst < 1e-9, `static model: worst |sum - 1| = ${worst}`);
  // On a stored n-gram the static model is the exact mixture.
  const mixture = new MixtureDistribution(union, weights);
  const random = seededRandom(5);
  let checked = 0;
  for (let i = 0; i < 300; i++) {
    const n = 1 + Math.floor(random() * (lm.trie.size - 1));
    if (Number.isNaN(lm.logProb[n]!) || (lm.trie.order[n] === 1 && lm.trie.word[n] === BOS)) continue;
    const path = lm.trie.path(n);
    const p = mixture.probabilities([...path.slice(0, -1)]);
    t.true(Math.abs(lm.logProb[n]! - Math.log10(p[path.at(-1)!]!)) < 1e-9, `n-gram ${path.map((w) => union.vocab.word(w)).join(' ')}`);
    checked++;
  }
  t.true(checked > 200);
  // Every n-gram of every component is stored.
  for (let k = 1; k <= lm.order; k++) t.true(counts[k]! >= Math.max(...models.map((m) => (k <= m.order ? m.trie.countsByOrder(m.order)[k]! : 0))));
  // Close to the exact mixture on DEV, but an approximation.
  const staticScorer = new Scorer(lm);
  const staticPpl = perplexity(dev.map((line) => staticScorer.sentence(ids(union, line)))).includingOov;
  const exactPpl = perplexity(scoreText(union, dev).sentenceScores(weights)).includingOov;
  t.true(Math.abs(staticPpl / exactPpl - 1) < 0.05, `static ${staticPpl} vs exact ${exactPpl}`);
  t.log(`static mix of ${models.length} models: DEV perplexity ${staticPpl.toFixed(3)} (exact mixture ${exactPpl.toFixed(3)}); n-grams ${counts.slice(1).join('/')}`);
}

test('the static mix of two order-3 models is normalized and equals the mixture on its n-grams', (t) => {
  checkStatic(t, [first, second], Float64Array.of(0.4, 0.6));
});

test('the static mix of an order-3 and an order-2 model is an order-3 model, normalized', (t) => {
  checkStatic(t, [first, bigram], Float64Array.of(0.5, 0.5));
});
