// The decoder samples from the model's exact backoff distribution (issue 8): for fixed contexts,
// including words reachable only by backing off, 100k draws match p(w | h) by a chi-square test,
// and under top-k / top-p they match the truncated, renormalised distribution. The expected
// distributions come from model/distribution.ts, which computes them independently of the
// decoder (the way scoring reads the model).
import test from 'ava';
import { NextWordDistribution } from '../model/distribution.js';
import type { LanguageModel } from '../model/language_model.js';
import { seededRandom } from '../model/sample.js';
import { BOS } from '../model/vocab.js';
import { ModelContextSource } from '../generate/context_source.js';
import { EXACT_CONTROLS, type Controls } from '../generate/controls.js';
import { Decoder } from '../generate/decoder.js';
import { chiSquare } from './helpers/chi_square.js';
import { buildFromFile } from './helpers/corpus.js';
import { BUNDLED_TRAIN } from './helpers/paths.js';

const DRAWS = 100_000;
// The truncated distributions keep at most 14 words here, each expected 567 times or more in 25k
// draws: enough to tell a wrong truncation apart, at a quarter of the CPU of 100k.
const TRUNCATED_DRAWS = 25_000;
const lm: LanguageModel = buildFromFile(BUNDLED_TRAIN, 3).lm;
const exactDistribution = new NextWordDistribution(lm);

function ids(words: string[]): number[] {
  return words.map((w) => (w === '<s>' ? BOS : lm.vocab.lookup(w)));
}

async function drawCounts(history: number[], controls: Controls, seed: number, draws = DRAWS): Promise<Float64Array> {
  const decoder = new Decoder(new ModelContextSource(lm), seededRandom(seed));
  const seen = new Float64Array(lm.vocab.size);
  for (let i = 0; i < draws; i++) seen[await decoder.next(history, controls)]++;
  return seen;
}

/** A bigram context with few followers of its own: most of its mass is reached only by backoff. */
function sparseContext(): number[] {
  const followers = new Map<number, number>();
  for (let n = 1; n < lm.trie.size; n++) {
    if (lm.trie.order[n] === 3 && !Number.isNaN(lm.logProb[n]!)) followers.set(lm.trie.parent[n]!, (followers.get(lm.trie.parent[n]!) ?? 0) + 1);
  }
  for (let n = 1; n < lm.trie.size; n++) {
    if (lm.trie.order[n] === 2 && lm.trie.path(n)[0] !== BOS && !Number.isNaN(lm.logProb[n]!) && (followers.get(n) ?? 0) === 2) return lm.trie.path(n);
  }
  throw new Error('no bigram context with two followers');
}

const contexts: [string, () => number[]][] = [
  ['sentence start <s>', () => [BOS]],
  ['a frequent context "<s> And"', () => ids(['<s>', 'And'])],
  ['a sparse context (two followers of its own, the rest by backoff)', sparseContext],
];

for (const [name, history] of contexts) {
  test(`exact draws match p(w | h) by chi-square: ${name}`, async (t) => {
    const h = history();
    const p = exactDistribution.probabilities(h);
    const seen = await drawCounts(h, EXACT_CONTROLS, 42);
    const fit = chiSquare(seen, p, DRAWS);
    // Mass the longest stored context does not hold: drawn only by backing off.
    const longest = lm.trie.findPath(h.slice(-(lm.order - 1)));
    const own = new Set<number>();
    for (let n = 1; n < lm.trie.size; n++) if (lm.trie.parent[n] === longest && !Number.isNaN(lm.logProb[n]!)) own.add(lm.trie.word[n]!);
    let backoffMass = 0;
    let backoffDraws = 0;
    for (let w = 0; w < p.length; w++) if (!own.has(w)) (backoffMass += p[w]!), (backoffDraws += seen[w]!);
    t.log(`chi-square ${fit.statistic.toFixed(1)}, df ${fit.df}, p ${fit.pValue.toFixed(3)}; backoff mass ${backoffMass.toFixed(4)}, drawn ${(backoffDraws / DRAWS).toFixed(4)}`);
    t.true(fit.pValue > 1e-3, `p-value ${fit.pValue}`);
    t.is(seen[BOS], 0, '<s> is never drawn');
    if (backoffMass > 0.01) t.true(backoffDraws > 0, 'words reachable only by backoff are drawn');
  });
}

test('the chi-square check rejects the seed decoder (longest context only, renormalised): the test can fail', async (t) => {
  const h = sparseContext();
  const p = exactDistribution.probabilities(h);
  const longest = lm.trie.findPath(h);
  const wrong = new Float64Array(p.length);
  for (let n = 1; n < lm.trie.size; n++) if (lm.trie.parent[n] === longest && !Number.isNaN(lm.logProb[n]!)) wrong[lm.trie.word[n]!] = p[lm.trie.word[n]!]!;
  const sum = wrong.reduce((a, b) => a + b, 0);
  const random = seededRandom(7);
  const seen = new Float64Array(p.length);
  const words = [...wrong.keys()].filter((w) => wrong[w]! > 0);
  for (let i = 0; i < DRAWS; i++) {
    let u = random() * sum;
    let pick = words[words.length - 1]!;
    for (const w of words) if ((u -= wrong[w]!) < 0) (pick = w), (u = Infinity);
    seen[pick]++;
  }
  t.true(chiSquare(seen, p, DRAWS).pValue < 1e-6);
});

/** The distribution truncated as top-k then top-p describe it, computed here from the exact one. */
function truncated(p: Float64Array, topK: number, topP: number): Float64Array {
  const order = [...p.keys()].filter((w) => p[w]! > 0).sort((a, b) => p[b]! - p[a]! || a - b).slice(0, topK || undefined);
  const total = order.reduce((s, w) => s + p[w]!, 0);
  const out = new Float64Array(p.length);
  let mass = 0;
  for (const w of order) {
    if (mass >= topP * total) break;
    out[w] = p[w]!;
    mass += p[w]!;
  }
  const kept = out.reduce((a, b) => a + b, 0);
  return out.map((x) => x / kept);
}

for (const [topK, topP] of [[10, 1], [0, 0.5], [20, 0.9]] as const) {
  test(`under top-k ${topK || 'off'} and top-p ${topP} draws match the truncated, renormalised distribution`, async (t) => {
    const h = ids(['<s>', 'And']);
    const expected = truncated(exactDistribution.probabilities(h), topK, topP);
    const seen = await drawCounts(h, { ...EXACT_CONTROLS, topK, topP }, 9, TRUNCATED_DRAWS);
    const fit = chiSquare(seen, expected, TRUNCATED_DRAWS);
    t.log(`chi-square ${fit.statistic.toFixed(1)}, df ${fit.df}, p ${fit.pValue.toFixed(3)}`);
    t.true(fit.pValue > 1e-3, `p-value ${fit.pValue}`);
    for (let w = 0; w < expected.length; w++) if (expected[w] === 0) t.is(seen[w], 0, `word ${lm.vocab.word(w)} is outside the truncation`);
  });
}

test('the same seed draws the same words; another seed draws others', async (t) => {
  const run = async (seed: number) => {
    const decoder = new Decoder(new ModelContextSource(lm), seededRandom(seed));
    const history = [BOS];
    for (let i = 0; i < 30; i++) history.push(await decoder.next(history, EXACT_CONTROLS));
    return history;
  };
  t.deepEqual(await run(5), await run(5));
  t.notDeepEqual(await run(5), await run(6));
});
