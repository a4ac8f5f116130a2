// Generation from the exact linear mixture of models (generate/mixture_decoder.ts, issue 9): the
// distribution the decoder draws from is sum_i lambda_i p_i (against model/mix/mixture_distribution.ts,
// which reads each component through model/distribution.ts, apart from the decoder), the controls
// act on it as one model's decoder applies them to its own distribution, and seeded draws of the
// first word match the mixture by chi-square while failing each component alone. Two models of the
// two halves of the bundled corpus (order 3 and order 2), so their vocabularies differ.
import test from 'ava';
import fs from 'node:fs';
import { ModelContextSource } from '../generate/context_source.js';
import { applyControls, EXACT_CONTROLS, type Controls } from '../generate/controls.js';
import { Decoder } from '../generate/decoder.js';
import { Engine } from '../generate/engine.js';
import { MixtureDecoder, ModelMixture } from '../generate/mixture_decoder.js';
import { SessionCache } from '../generate/session_cache.js';
import { MixtureDistribution } from '../model/mix/mixture_distribution.js';
import { UnionVocab } from '../model/mix/union_vocab.js';
import { seededRandom } from '../model/sample.js';
import { BOS } from '../model/vocab.js';
import { chiSquare } from './helpers/chi_square.js';
import { buildFromText } from './helpers/corpus.js';
import { BUNDLED_TEST, BUNDLED_TRAIN } from './helpers/paths.js';

const train = fs.readFileSync(BUNDLED_TRAIN, 'utf8').split('\n');
const half = Math.floor(train.length / 2);
const first = buildFromText(train.slice(0, half).join('\n') + '\n', 3).lm;
const second = buildFromText(train.slice(half).join('\n') + '\n', 2).lm;
const union = new UnionVocab([first, second]);
const weights = Float64Array.of(0.3, 0.7);
const mixture = new ModelMixture(union, weights);
const reference = new MixtureDistribution(union, weights);
const heldOut = fs.readFileSync(BUNDLED_TEST, 'utf8').split('\n').filter((l) => l.trim() !== '');

const ids = (line: string) => line.trim().split(/\s+/).map((w) => union.vocab.lookup(w));

/** Histories from held-out text: prefixes of a few sentences, words one component lacks and OOVs among them. */
function histories(): number[][] {
  const out: number[][] = [[BOS]];
  for (const line of heldOut.slice(0, 12)) {
    const words = ids(line);
    for (let i = 1; i <= words.length; i += 2) out.push([BOS, ...words.slice(0, i)]);
  }
  return out;
}

const step = (controls: Controls, generated: number[] = [], cache?: SessionCache) => ({ controls, generated, extraBans: [], cache });

test('the histories exercise words only one component knows, and OOVs', (t) => {
  const words = histories().flat();
  t.true(words.some((w) => (union.toModel[0]![w]! < 0) !== (union.toModel[1]![w]! < 0)));
  t.true(words.some((w) => union.isOov(w)));
});

test('the distribution the decoder draws from is sum_i lambda_i p_i within 1e-12, and sums to 1 within 1e-9', async (t) => {
  const decoder = new MixtureDecoder(mixture, seededRandom(1));
  // A zero bias leaves the distribution as it is but takes the controlled path (built over the union).
  const neutral: Controls = { ...EXACT_CONTROLS, logitBias: new Map([[union.vocab.lookup('the'), 0]]) };
  let worstExact = 0;
  let worstBuilt = 0;
  let worstSum = 0;
  const all = histories();
  for (const h of all) {
    const expected = reference.probabilities(h);
    const [levels] = await decoder.levelsOf([h]);
    const exact = decoder.target(levels!, step(EXACT_CONTROLS));
    const built = decoder.target(levels!, step(neutral));
    let sum = 0;
    for (let w = 0; w < union.size; w++) {
      const p = exact.probability(w);
      sum += p;
      worstExact = Math.max(worstExact, Math.abs(p - expected[w]!));
      worstBuilt = Math.max(worstBuilt, Math.abs(built.probability(w) - expected[w]!));
    }
    worstSum = Math.max(worstSum, Math.abs(sum - 1));
  }
  t.log(`${all.length} histories: worst |p - sum lambda p_i| ${worstExact.toExponential(2)} (exact path), ${worstBuilt.toExponential(2)} (controlled path); worst |sum - 1| ${worstSum.toExponential(2)}`);
  t.true(worstExact < 1e-12, `exact path off by ${worstExact}`);
  t.true(worstBuilt < 1e-12, `controlled path off by ${worstBuilt}`);
  t.true(worstSum < 1e-9, `sum off by ${worstSum}`);
  t.true(decoder.stats.fullSteps > 0);
});

test('every control acts on the mixture as on one model: weights 1,0 give the first model decoder\'s distribution', async (t) => {
  // The first model's ids are the union's first ids, so its decoder (sparse_target.ts, built
  // apart from applyControls) and the mixture's can be compared word by word.
  const alone = new Decoder(new ModelContextSource(first), seededRandom(2));
  const degenerate = new MixtureDecoder(new ModelMixture(union, Float64Array.of(1, 0)), seededRandom(2));
  const the = first.vocab.lookup('the');
  const lord = first.vocab.lookup('LORD');
  const settings: Controls[] = [
    { ...EXACT_CONTROLS, temperature: 0.7, topK: 30 },
    { ...EXACT_CONTROLS, temperature: 1.3, topP: 0.8, minP: 0.01 },
    { ...EXACT_CONTROLS, banned: new Set([the]), logitBias: new Map([[lord, 2]]), presencePenalty: 0.5, frequencyPenalty: 0.2, repeatPenalty: 1.4 },
    { ...EXACT_CONTROLS, temperature: 0 },
  ];
  const cache = new SessionCache({ weight: 0.12, decay: 0.999 });
  // Words of the first model (a cached word it lacks would be outside its decoder's ids).
  for (const w of ids('And the LORD said unto Abram his son')) cache.observe(w);
  t.true(ids('And the LORD said unto Abram his son').every((w) => w > 2 && w < first.vocab.size));
  let worst = 0;
  for (const h of histories().slice(0, 20)) {
    const generated = h.slice(1);
    const [own] = await alone.levelsOf([h.map((w) => union.contextId(0, w))]);
    const [mixed] = await degenerate.levelsOf([h]);
    for (const controls of settings) {
      for (const c of [undefined, cache]) {
        const a = alone.target(own!, step(controls, generated, c));
        const b = degenerate.target(mixed!, step(controls, generated, c));
        for (let w = 0; w < first.vocab.size; w++) worst = Math.max(worst, Math.abs(a.probability(w) - b.probability(w)));
        for (let w = first.vocab.size; w < union.size; w++) t.is(b.probability(w), 0);
      }
    }
  }
  t.log(`worst difference ${worst.toExponential(2)}`);
  t.true(worst < 1e-12, `off by ${worst}`);
});

test('under controls the mixture decoder draws from the controlled mixture: applyControls on sum_i lambda_i p_i', async (t) => {
  const decoder = new MixtureDecoder(mixture, seededRandom(3));
  const controls: Controls = { ...EXACT_CONTROLS, temperature: 0.8, topK: 40, topP: 0.95, logitBias: new Map([[union.vocab.lookup('God'), 1]]) };
  let worst = 0;
  for (const h of histories().slice(0, 20)) {
    const expected = applyControls(reference.probabilities(h), controls, h.slice(1));
    const [levels] = await decoder.levelsOf([h]);
    const target = decoder.target(levels!, step(controls, h.slice(1)));
    for (let w = 0; w < union.size; w++) worst = Math.max(worst, Math.abs(target.probability(w) - expected[w]!));
  }
  t.true(worst < 1e-12, `off by ${worst}`);
});

const DRAWS = 100_000;

test('seeded draws of the first word match the mixture by chi-square, and neither model alone', async (t) => {
  const decoder = new MixtureDecoder(mixture, seededRandom(42));
  const seen = new Float64Array(union.size);
  for (let i = 0; i < DRAWS; i++) seen[await decoder.next([BOS], EXACT_CONTROLS)]++;
  const fit = chiSquare(seen, reference.probabilities([BOS]), DRAWS);
  t.log(`mixture: chi-square ${fit.statistic.toFixed(1)}, df ${fit.df}, p ${fit.pValue.toFixed(3)}`);
  t.true(fit.pValue > 1e-3, `p-value ${fit.pValue}`);
  t.is(seen[BOS], 0, '<s> is never drawn');
  // Each component alone, in union ids: the same counts must reject it.
  for (const [name, lambda] of [['first model', [1, 0]], ['second model', [0, 1]]] as const) {
    const alone = new MixtureDistribution(union, Float64Array.from(lambda)).probabilities([BOS]);
    const wrong = chiSquare(seen, alone, DRAWS);
    t.log(`${name} alone: chi-square ${wrong.statistic.toFixed(1)}, p ${wrong.pValue.toExponential(2)}`);
    t.true(wrong.pValue < 1e-6, `${name}: p-value ${wrong.pValue}`);
  }
});

test('under top-k and temperature, seeded draws match the controlled mixture by chi-square', async (t) => {
  const draws = 50_000;
  const controls: Controls = { ...EXACT_CONTROLS, temperature: 0.8, topK: 25 };
  const h = [BOS, union.vocab.lookup('And')];
  const decoder = new MixtureDecoder(mixture, seededRandom(43));
  // One position's target drawn from again and again (building it is what a step costs, not the draw).
  const [levels] = await decoder.levelsOf([h]);
  const target = decoder.target(levels!, step(controls));
  const seen = new Float64Array(union.size);
  for (let i = 0; i < draws; i++) seen[target.draw()]++;
  const expected = applyControls(reference.probabilities(h), controls, []);
  const fit = chiSquare(seen, expected, draws);
  t.log(`chi-square ${fit.statistic.toFixed(1)}, df ${fit.df}, p ${fit.pValue.toFixed(3)}`);
  t.true(fit.pValue > 1e-3, `p-value ${fit.pValue}`);
  t.is(seen.filter((n) => n > 0).length, 25);
});

test('the Engine on a mixture: the same seed gives the same text, one model alone is that model\'s engine', async (t) => {
  const engine = await Engine.open({ lms: [first, second], weights: [0.3, 0.7] });
  const request = { seed: 5, maxTokens: 25, temperature: 0.9, topP: 0.95 };
  const once = await engine.generateMany(request, 3);
  t.deepEqual(await engine.generateMany(request, 3), once);
  t.notDeepEqual(await engine.generateMany({ ...request, seed: 6 }, 3), once);
  // Words only the second model knows are reachable.
  const free = await engine.generateMany({ seed: 7, maxTokens: 40 }, 20);
  t.true(free.some((g) => g.words.some((w) => union.toModel[0]![w.id]! < 0)));
  const single = await Engine.open({ lms: [first] });
  const plain = await Engine.open({ lm: first });
  t.deepEqual(await single.generateMany(request, 3), await plain.generateMany(request, 3));
});

test('the Engine refuses bad weights as ppl does, and --concepts with a mixture', async (t) => {
  await t.throwsAsync(Engine.open({ lms: [first, second], weights: [0.3, 0.8] }), { message: /--weights sum to 1\.1, not 1/ });
  await t.throwsAsync(Engine.open({ lms: [first, second], weights: [1] }), { message: /--weights has 1 values for 2 models/ });
  const engine = await Engine.open({ lms: [first, second] });
  await t.throwsAsync(engine.generate({ seed: 1, concepts: true }), { message: /concept spans .* mined from one model/ });
});
