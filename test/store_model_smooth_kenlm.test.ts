// The full KJV training text counted into one store actor and smoothed there at order 3, compared
// with KenLM lmplz's own model of it (../shared/reference/kenlm/kjv3.arpa.gz, README there): the
// same n-grams, the unigrams in KenLM's order, every log10 p and backoff within 1e-5 (the ARPA
// keeps about 7 significant digits).
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { StoreClient } from '../store/client/client.js';
import { readModel } from '../store/model/read_model.js';
import { smoothModel } from '../store/model/smooth/smooth_model.js';
import { readArpaSections } from './helpers/arpa_compare.js';
import { HAS_SHARED, SHARED, SHARED_SKIP_NOTE } from './helpers/paths.js';
import { countText } from './helpers/stat_counting.js';
import { spawnActor } from './helpers/store_procs.js';

const KJV3 = path.join(SHARED, 'reference', 'kenlm', 'kjv3.arpa.gz');
const TRAIN = path.join(SHARED, 'corpora', 'kjv.train.txt');

if (!HAS_SHARED || !fs.existsSync(TRAIN)) {
  test.skip(`KJV order 3 smoothed in one actor equals KenLM's kjv3.arpa within 1e-5: ${SHARED_SKIP_NOTE}`, () => {});
} else {
  test("KJV order 3 smoothed in one actor equals KenLM's kjv3.arpa within 1e-5 (skips without ../shared)", async (t) => {
    t.timeout(900000);
    const actor = await spawnActor(t, 'smooth-kenlm');
    const client = await StoreClient.connect(actor.ep);
    t.teardown(() => client.close());
    let started = performance.now();
    await countText(client, 'kjv3', 3, fs.readFileSync(TRAIN, 'utf8'));
    const countMs = performance.now() - started;
    started = performance.now();
    const result = await smoothModel(client, { model: 'kjv3', order: 3, tokenizer: 'whitespace', discountFallback: false, source: 'test:kjv.train' });
    t.log(`kjv.train order 3, one actor: counting ${(countMs / 1000).toFixed(1)} s, smoothModel ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const kenlm = readArpaSections(KJV3);
    t.deepEqual(result.counts, kenlm.sections.map((s) => s.length), "n-grams per order, as KenLM's header");
    const { lm } = await readModel(client, 'kjv3', { where: actor.ep });
    t.deepEqual(lm.vocab.words, kenlm.sections[0]!.map((l) => l.split('\t')[1]!), "vocabulary ids in KenLM's unigram order");
    let missing = 0;
    let off = 0;
    let worst = 0;
    const examples: string[] = [];
    kenlm.sections.forEach((lines, i) => {
      for (const line of lines) {
        const [logProb, words, backoff] = line.split('\t');
        const ids = words!.split(' ').map((w) => lm.vocab.lookup(w));
        const n = lm.trie.findPath(ids);
        if (n < 0 || ids.length !== i + 1) {
          if (examples.length < 5) examples.push(`missing: ${words}`);
          missing++;
          continue;
        }
        const d = Math.max(Math.abs(lm.logProb[n]! - Number(logProb)), Math.abs(lm.backoff[n]! - Number(backoff ?? 0)));
        if (d > worst) worst = d;
        if (!(d <= 1e-5)) {
          off++;
          if (examples.length < 5) examples.push(`${words}: ${lm.logProb[n]} ${lm.backoff[n]} vs ${logProb} ${backoff ?? 0}`);
        }
      }
    });
    t.is(missing, 0, `KenLM's n-grams missing: ${examples.join('; ')}`);
    t.is(off, 0, `entries off by more than 1e-5 (worst ${worst}): ${examples.join('; ')}`);
    t.log(`worst difference from KenLM: ${worst}`);
  });
}
