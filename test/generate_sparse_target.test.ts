// The sparse controlled distribution (generate/sparse_target.ts) equals the controls applied to
// the full distribution over the vocabulary (generate/controls.ts applyControls on
// model/distribution.ts's exact p, the session cache mixed in by SessionCache.mixInto), word by
// word, for every control and combinations of them.
import test from 'ava';
import { NextWordDistribution } from '../model/distribution.js';
import { seededRandom } from '../model/sample.js';
import { BOS } from '../model/vocab.js';
import { backoffLevels } from '../generate/backoff_levels.js';
import { ModelContextSource } from '../generate/context_source.js';
import { parseContextDimensions } from '../generate/context_dimensions.js';
import { applyControls, EXACT_CONTROLS, type Controls } from '../generate/controls.js';
import { SessionCache } from '../generate/session_cache.js';
import { sparseTarget } from '../generate/sparse_target.js';
import { buildFromFile } from './helpers/corpus.js';
import { BUNDLED_TRAIN } from './helpers/paths.js';

const lm = buildFromFile(BUNDLED_TRAIN, 3).lm;
const source = new ModelContextSource(lm);
const exact = new NextWordDistribution(lm);
const id = (w: string) => lm.vocab.lookup(w);
const generated = ['the', 'LORD', 'said', 'unto', 'Moses', ',', 'the'].map(id);

const cases: [string, Partial<Controls>, boolean][] = [
  ['temperature 0.7', { temperature: 0.7 }, false],
  ['temperature 1.6 and top-k 25', { temperature: 1.6, topK: 25 }, false],
  ['top-p 0.8', { topP: 0.8 }, false],
  ['top-k 50, top-p 0.9, min-p 0.02', { topK: 50, topP: 0.9, minP: 0.02 }, false],
  ['bans, bias and penalties', { banned: new Set([id('the'), id('and')]), logitBias: new Map([[id('God'), 2], [id('Egypt'), -1]]), presencePenalty: 0.5, frequencyPenalty: 0.3 }, false],
  ['repeat penalty over context dimensions, temperature 0.9', { repeatPenalty: 1.8, contextWindows: parseContextDimensions('2,4'), temperature: 0.9 }, false],
  ['temperature 0', { temperature: 0, logitBias: new Map([[id('he'), 1]]) }, false],
  ['the session cache with top-p 0.95', { topP: 0.95 }, true],
  ['the session cache alone, min tokens banning </s>', {}, true],
];

for (const history of [[BOS], [BOS, id('And')], [BOS, id('And'), id('the'), id('LORD')], [id('qqq-unknown'), id('seven')]]) {
  for (const [name, partial, withCache] of cases) {
    test(`sparse equals full: ${name}, after "${history.map((w) => lm.vocab.word(w)).join(' ')}"`, async (t) => {
      const controls = { ...EXACT_CONTROLS, ...partial };
      const extraBans = name.includes('min tokens') ? [2] : [];
      const cache = withCache ? new SessionCache({ weight: 0.2, decay: 0.95 }) : undefined;
      for (const w of generated) cache?.observe(w);
      const full = exact.probabilities(history);
      if (cache) cache.mixInto(full);
      applyControls(full, controls, generated, extraBans);
      const target = sparseTarget(await backoffLevels(source, history), { controls, generated, extraBans, cache }, lm.vocab.size, seededRandom(1));
      let worst = 0;
      for (let w = 0; w < full.length; w++) worst = Math.max(worst, Math.abs(target.probability(w) - full[w]!));
      t.true(worst < 1e-9, `largest difference ${worst}`);
    });
  }
}
