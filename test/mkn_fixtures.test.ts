// Tiny corpora worked out by hand, so a failure says which quantity went wrong.
import test from 'ava';
import { adjustCounts } from '../model/adjust_counts.js';
import { countNgrams } from '../model/corpus_count.js';
import { IdStream, readWhitespace } from '../model/corpus_read.js';
import { estimateDiscounts } from '../model/discounts.js';
import { InputError } from '../model/errors.js';
import type { LanguageModel } from '../model/language_model.js';
import { Vocab } from '../model/vocab.js';
import { buildFromText } from './helpers/corpus.js';

function node(lm: LanguageModel, gram: string): number {
  return lm.trie.findPath(gram.split(' ').map((w) => lm.vocab.lookup(w)));
}
const prob = (lm: LanguageModel, gram: string) => Math.pow(10, lm.logProb[node(lm, gram)]);
const backoff = (lm: LanguageModel, gram: string) => Math.pow(10, lm.backoff[node(lm, gram)]);

test('discounts follow D_j = j - (j+1) Y t_{j+1} / t_j with Y = t1 / (t1 + 2 t2)', (t) => {
  const d = estimateDiscounts([[], [0, 10, 4, 2, 1]], 1, false)[1];
  const y = 10 / 18;
  t.true(Math.abs(d[1] - (1 - (2 * y * 4) / 10)) < 1e-12);
  t.true(Math.abs(d[2] - (2 - (3 * y * 2) / 4)) < 1e-12);
  t.true(Math.abs(d[3] - (3 - (4 * y * 1) / 2)) < 1e-12);
});

test('invalid counts-of-counts fail naming the order, and --discount-fallback gives 0.5/1/1.5', (t) => {
  const coc = [[], [0, 10, 4, 2, 1], [0, 3, 0, 1, 0]];
  const err = t.throws(() => estimateDiscounts(coc, 2, false), { instanceOf: InputError });
  t.regex(err!.message, /order 2/);
  t.regex(err!.message, /--discount-fallback/);
  t.deepEqual(estimateDiscounts(coc, 2, true)[2], [0, 0.5, 1, 1.5]);
});

test('counts: raw for the top order and <s>-initial n-grams, continuation counts otherwise; nothing crosses a line', (t) => {
  const vocab = new Vocab();
  const ids = new IdStream();
  readWhitespace('a b\nb a\na b\n', 'fixture', vocab, ids);
  const counts = countNgrams(ids.view, 2);
  const adj = adjustCounts(counts).adjusted;
  const id = (g: string) => counts.trie.findPath(g.split(' ').map((w) => vocab.lookup(w)));
  t.is(counts.raw[id('a b')], 2);
  t.is(adj[id('a b')], 2, 'top order keeps raw counts');
  t.is(adj[id('<s> a')], 2, '<s>-initial keeps raw counts');
  t.is(adj[id('b')], 2, 'b follows a and <s>');
  t.is(adj[id('a')], 2, 'a follows <s> and b');
  t.is(adj[id('</s>')], 2, '</s> follows a and b');
  t.is(adj[id('<s>')], 0);
  t.is(id('</s> <s>'), -1, 'no n-gram spans two lines');
  t.is(id('b b'), -1);
});

test('order 2 with fallback discounts: every probability and backoff as worked out by hand', (t) => {
  // <s> a b </s> / <s> b </s>.  |V| = 5 (<unk> <s> </s> a b), uniform 1/4.
  // Unigram a(): a=1 (<s>), b=2 (a, <s>), </s>=1 (b). s=4, D-sum = .5+1+.5 = 2, gamma = .5
  const { lm, discounts } = buildFromText('a b\nb\n', 2, true);
  t.deepEqual(discounts[1], [0, 0.5, 1, 1.5]);
  const close = (got: number, want: number, what: string) => t.true(Math.abs(got - want) < 1e-12, `${what}: ${got} != ${want}`);
  close(prob(lm, 'a'), 0.5 / 4 + 0.5 / 4, 'p(a)');
  close(prob(lm, 'b'), 1 / 4 + 0.5 / 4, 'p(b)');
  close(prob(lm, '</s>'), 0.5 / 4 + 0.5 / 4, 'p(</s>)');
  close(prob(lm, '<unk>'), 0.5 / 4, 'p(<unk>) = gamma / (|V| - 1)');
  t.is(lm.logProb[node(lm, '<s>')], 0, '<s> is written as log10 0');
  // Context <s>: a(1) b(1): s=2, gamma=.5.  Context a: b(1): gamma=.5.  Context b: </s>(2): D2=1, gamma=.5
  close(prob(lm, '<s> a'), 0.5 / 2 + 0.5 * 0.25, 'p(a | <s>)');
  close(prob(lm, '<s> b'), 0.5 / 2 + 0.5 * 0.375, 'p(b | <s>)');
  close(prob(lm, 'a b'), 0.5 / 1 + 0.5 * 0.375, 'p(b | a)');
  close(prob(lm, 'b </s>'), 1 / 2 + 0.5 * 0.25, 'p(</s> | b)');
  close(backoff(lm, '<s>'), 0.5, 'backoff(<s>)');
  close(backoff(lm, 'a'), 0.5, 'backoff(a)');
  close(backoff(lm, 'b'), 0.5, 'backoff(b)');
  t.is(lm.backoff[node(lm, '</s>')], 0, '</s> has backoff 0');
});

test('order 1: unigrams are the highest order and use raw counts', (t) => {
  // raw: a=2, b=1, </s>=2; s=5, D: a(2)->1, b(1)->.5, </s>(2)->1: gamma = 2.5/5; uniform 1/4
  const { lm } = buildFromText('a b\na\n', 1, true);
  t.true(Math.abs(prob(lm, 'a') - (1 / 5 + 0.5 / 4)) < 1e-12);
  t.true(Math.abs(prob(lm, 'b') - (0.5 / 5 + 0.5 / 4)) < 1e-12);
});

test('a last line without a final newline gets no </s>, as lmplz', (t) => {
  const { lm } = buildFromText('a b\nb a', 2, true);
  t.true(node(lm, 'a </s>') < 0);
  t.true(node(lm, 'b </s>') >= 0);
});

test('reserved tokens in training text are refused with file and line', (t) => {
  const err = t.throws(() => buildFromText('a b\nc <s> d\n', 2, true), { instanceOf: InputError });
  t.is(err!.file, 'fixture');
  t.is(err!.line, 2);
  t.regex(err!.message, /the token <s> is reserved/);
});
