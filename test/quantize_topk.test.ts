// Quantized values and Top-K heads, checked against the unquantized model and against a brute
// force over the whole vocabulary.
import test from 'ava';
import { NextWordDistribution } from '../model/distribution.js';
import { encode, quantizeModel, trainCodebook } from '../model/quantize.js';
import { seededRandom } from '../model/sample.js';
import { perplexity, Scorer } from '../model/score.js';
import { buildTopK, HeadSample, rowFor } from '../model/topk.js';
import { BOS } from '../model/vocab.js';
import fs from 'node:fs';
import { buildFromFile } from './helpers/corpus.js';
import { BUNDLED_TEST, BUNDLED_TRAIN } from './helpers/paths.js';

test('a codebook bins by quantiles, encodes to the nearest center, and keeps an exact 0 when asked', (t) => {
  const values = Float64Array.from({ length: 1000 }, (_, i) => -i / 100);
  const book = trainCodebook(values, 2);
  t.is(book.centers.length, 4);
  t.deepEqual([...book.centers].map((c) => Math.round(c * 1000) / 1000), [-8.745, -6.245, -3.745, -1.245], 'means of four equal-count bins');
  t.is(encode(book, -9.9), 0);
  t.is(encode(book, -5), 1, '-5 is nearer -6.245 than -3.745');
  t.is(encode(book, 0), 3);
  const withZero = trainCodebook(Float64Array.from([0, 0, -1, -2, -3, -4]), 2, true);
  t.is(withZero.centers[0], 0);
  t.is(encode(withZero, 0), 0);
  t.not(encode(withZero, -0.01), 0, 'a small non-zero backoff does not collapse to "no backoff"');
});

test('8-bit quantization costs little perplexity; 2 bits costs more', (t) => {
  const { lm } = buildFromFile(BUNDLED_TRAIN, 3);
  const lines = fs.readFileSync(BUNDLED_TEST, 'utf8').trim().split('\n');
  const ppl = (m: typeof lm) => {
    const s = new Scorer(m);
    return perplexity(lines.map((l) => s.sentence(l.split(' ').map((w) => m.vocab.lookup(w))))).includingOov;
  };
  const base = ppl(lm);
  const q8 = ppl(quantizeModel(lm, 8).lm);
  const q2 = ppl(quantizeModel(lm, 2).lm);
  t.log(`perplexity: float ${base.toFixed(3)}, 8-bit ${q8.toFixed(3)} (${((100 * (q8 - base)) / base).toFixed(3)}%), 2-bit ${q2.toFixed(3)}`);
  t.true(Math.abs(q8 - base) / base < 0.01, '8 bits within 1%');
  t.true(Math.abs(q2 - base) > Math.abs(q8 - base), 'fewer bits, larger cost');
});

test('Top-K rows equal the K most probable words of the full distribution', (t) => {
  const { lm } = buildFromFile(BUNDLED_TRAIN, 3);
  const k = 16;
  const topk = buildTopK(lm, k);
  const dist = new NextWordDistribution(lm);
  const random = seededRandom(5);
  const contexts: number[][] = [[BOS], []];
  for (let i = 0; i < 60; i++) {
    const n = 1 + Math.floor(random() * (lm.trie.size - 1));
    if (lm.trie.order[n] < lm.order) contexts.push(lm.trie.path(n));
  }
  let worst = 0;
  let checked = 0;
  for (const history of contexts) {
    const p = dist.probabilities(history.length ? history : [BOS]);
    if (!history.length) continue;
    const ctx = dist.contexts(history);
    const row = rowFor(topk, lm, ctx[ctx.length - 1]);
    const brute = [...p.keys()].filter((w) => w !== BOS).sort((a, b) => p[b] - p[a]).slice(0, k);
    for (let i = 0; i < k; i++) {
      const w = topk.words[row * k + i];
      worst = Math.max(worst, Math.abs(Math.log10(p[brute[i]]) - topk.values[row * k + i]), Math.abs(Math.log10(p[w]) - topk.values[row * k + i]));
    }
    checked++;
  }
  t.log(`${checked} contexts, ${topk.rows} rows; worst |log10 p| difference ${worst.toExponential(2)}; codebook ${topk.codebook.centers.length} centers`);
  t.true(checked > 20);
  t.true(worst < 1e-5, `worst ${worst}`);
  // Quantized codes decode close to the exact values: quantile bins are fine where values are
  // dense and coarse in the sparse tails, so the mean error is what 8 bits buys.
  let sum = 0;
  let count = 0;
  let worstCode = 0;
  for (let i = 0; i < topk.values.length; i++) {
    if (topk.values[i] === -Infinity) continue;
    const e = Math.abs(topk.codebook.centers[topk.codes[i]] - topk.values[i]);
    sum += e;
    count++;
    worstCode = Math.max(worstCode, e);
  }
  t.log(`8-bit codes: mean |error| ${(sum / count).toExponential(2)} log10, worst ${worstCode.toFixed(3)}`);
  t.true(sum / count < 0.02, `mean decode error ${sum / count}`);
});

test('the codebook sample is the smallest entries by (hash, value), whatever the order they come in and however they are split', (t) => {
  const random = seededRandom(11);
  // Hashes from a small range, so many collide and the value decides among them.
  const entries = Array.from({ length: 50000 }, () => ({ hash: Math.floor(random() * 20000), value: -Math.floor(random() * 100) / 10 }));
  const size = 7000;
  const want = [...entries].sort((a, b) => a.hash - b.hash || a.value - b.value).slice(0, size).map((e) => e.value).sort((a, b) => a - b);
  const sorted = (s: HeadSample) => Array.from(s.entries().values).sort((a, b) => a - b);
  const inOrder = new HeadSample(size);
  for (const e of entries) inOrder.add(e.hash, e.value);
  t.deepEqual(sorted(inOrder), want, 'one sample, entries in order');
  // Three parts in another order, each cut to `size`, merged as the driver merges the actors' samples.
  const shuffled = [...entries].reverse();
  const merged = new HeadSample(size);
  for (let p = 0; p < 3; p++) {
    const part = new HeadSample(size);
    for (let i = p; i < shuffled.length; i += 3) part.add(shuffled[i]!.hash, shuffled[i]!.value);
    const { hashes, values } = part.entries();
    t.true(hashes.length <= size);
    hashes.forEach((h, i) => merged.add(h, values[i]!));
  }
  t.deepEqual(sorted(merged), want, 'three parts merged');
});
