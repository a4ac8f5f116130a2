// Level 2's session cache (generate/session_cache.ts): the mixture is a distribution, draws with
// the cache follow it, and reading held-out text as one running conversation, the cache lowers
// perplexity, with its weight and decay tuned on a slice that is not scored. Runs on the bundled
// corpus; the KJV figure is in bench:generate's output and the closing note.
import test from 'ava';
import fs from 'node:fs';
import { NextWordDistribution } from '../model/distribution.js';
import { lineToIds } from '../model/line_ids.js';
import { seededRandom } from '../model/sample.js';
import { tokenizeWhitespace } from '../model/tokenizer.js';
import { BOS } from '../model/vocab.js';
import { runningPerplexity, tuneCache } from '../generate/cache_scoring.js';
import { ModelContextSource } from '../generate/context_source.js';
import { EXACT_CONTROLS } from '../generate/controls.js';
import { Decoder } from '../generate/decoder.js';
import { SessionCache } from '../generate/session_cache.js';
import { chiSquare } from './helpers/chi_square.js';
import { buildFromFile } from './helpers/corpus.js';
import { BUNDLED_TEST, BUNDLED_TRAIN } from './helpers/paths.js';

const lm = buildFromFile(BUNDLED_TRAIN, 3).lm;
const words = (text: string) => text.split(' ').map((w) => lm.vocab.lookup(w));

test('the mixture sums to 1 over the vocabulary, and draws with the cache follow it (chi-square, 100k)', async (t) => {
  const cache = new SessionCache({ weight: 0.2, decay: 0.9 });
  for (const w of words('Moses said unto the LORD , Moses')) if (SessionCache.caches(w, lm.vocab.word(w))) cache.observe(w);
  const history = [BOS, ...words('And the')];
  const p = cache.mixInto(new NextWordDistribution(lm).probabilities(history));
  t.true(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-6, 'a distribution');
  const decoder = new Decoder(new ModelContextSource(lm), seededRandom(21));
  const seen = new Float64Array(p.length);
  const draws = 100_000;
  for (let i = 0; i < draws; i++) seen[await decoder.next(history, EXACT_CONTROLS, [], [], cache)]++;
  const fit = chiSquare(seen, p, draws);
  t.log(`chi-square ${fit.statistic.toFixed(1)}, df ${fit.df}, p ${fit.pValue.toFixed(3)}; p(Moses) ${p[lm.vocab.lookup('Moses')]!.toFixed(4)}`);
  t.true(fit.pValue > 1e-3);
});

test('reading held-out text as one conversation, the tuned cache lowers perplexity on the part not used for tuning', (t) => {
  const lines = fs.readFileSync(BUNDLED_TEST, 'utf8').split('\n').filter((l) => l !== '').map((l) => lineToIds(lm.vocab, tokenizeWhitespace, l));
  const cut = Math.floor(lines.length / 5);
  const tuned = tuneCache(lm, lines.slice(0, cut));
  const scored = lines.slice(cut);
  const without = runningPerplexity(lm, scored, null);
  const withCache = runningPerplexity(lm, scored, tuned.params);
  t.log(`${scored.length} lines scored (${without.tokens} tokens), tuned on ${cut}: weight ${tuned.params.weight}, decay ${tuned.params.decay}; perplexity ${without.includingOov.toFixed(2)} without the cache, ${withCache.includingOov.toFixed(2)} with it`);
  t.true(withCache.includingOov < without.includingOov);
  // Without the cache, the running score is exactly the model's perplexity (the Scorer's).
  t.is(runningPerplexity(lm, scored, { weight: 0, decay: 1 }).includingOov, without.includingOov);
});
