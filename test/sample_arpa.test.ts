// Sampling draws from the exact backoff distribution, and an ARPA written by us reads back as the
// same model: two ways of holding one model must not differ.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { readArpa } from '../model/arpa_read.js';
import { arpaChunks } from '../model/arpa_write.js';
import { formatFloat32, formatFloat32Fast } from '../model/float32_text.js';
import { NextWordDistribution } from '../model/distribution.js';
import { Sampler, seededRandom } from '../model/sample.js';
import { BOS } from '../model/vocab.js';
import { buildFromFile, buildFromText } from './helpers/corpus.js';
import { BUNDLED_TRAIN, CLI } from './helpers/paths.js';
import { tempDir } from './helpers/temp_dir.js';

test('first words drawn by the sampler follow p(w | <s>) (chi-square, 20k draws)', (t) => {
  const { lm } = buildFromText('a b c\na c\nb a c\nc\na b\nb b a\nc a b a\n', 2, true);
  const p = new NextWordDistribution(lm).probabilities([BOS]);
  const sampler = new Sampler(lm, seededRandom(1234));
  const draws = 20000;
  const seen = new Float64Array(p.length);
  for (let i = 0; i < draws; i++) seen[sampler.next([BOS])]++;
  let chi2 = 0;
  let cells = 0;
  for (let w = 0; w < p.length; w++) {
    if (w === BOS) {
      t.is(seen[w], 0, '<s> is never drawn');
      continue;
    }
    const expected = p[w] * draws;
    chi2 += ((seen[w] - expected) ** 2) / expected;
    cells++;
  }
  t.log(`chi-square ${chi2.toFixed(2)} over ${cells} words (df ${cells - 1})`);
  // 5 words, df = 4: the 0.999 quantile is 18.47.
  t.true(chi2 < 18.47, `chi-square ${chi2}`);
});

test('ARPA written and read back holds every entry to float32 precision', (t) => {
  const built = buildFromFile(BUNDLED_TRAIN, 3);
  const text = [...arpaChunks(built.lm, built.counts)].map((c) => c.toString()).join('');
  const back = readArpa(text, 'roundtrip.arpa');
  t.deepEqual(back.trie.countsByOrder(3), built.counts);
  let worst = 0;
  for (let n = 1; n < back.trie.size; n++) {
    const ours = built.lm.trie.findPath(back.trie.path(n).map((id) => built.lm.vocab.lookup(back.vocab.word(id))));
    t.not(ours, -1);
    worst = Math.max(worst, Math.abs(back.logProb[n] - built.lm.logProb[ours]), Math.abs(back.backoff[n] - built.lm.backoff[ours]));
  }
  t.true(worst < 1e-6, `worst ${worst}`);
});

test('a float32 exactly halfway between two shortest texts is written with the even last digit, as KenLM writes it', (t) => {
  // -2.89453125 and -2.44140625 are float32 values; KenLM's kjv3.arpa has -2.8945312 and -2.4414062.
  const ties = [
    [-2.89453125, '-2.8945312'], // the cut ends even: kept
    [-2.44140625, '-2.4414062'],
    [-418860.625, '-418860.62'],
    [-29878.4375, '-29878.438'], // the cut ends odd: rounded up to even
  ] as const;
  for (const [v, text] of ties) {
    t.is(formatFloat32Fast(v), text, `writer: ${v}`);
    t.is(formatFloat32(v), text, `string form: ${v}`);
  }
});

test('numbers are short texts (at most 9 digits) that read back as the same float32', (t) => {
  for (const v of [-5.1151867, -1.4776112, -0.21417695, -99, -100, -12.5, 0.5, -3]) t.is(formatFloat32Fast(v), formatFloat32(v));
  const random = seededRandom(9);
  for (let i = 0; i < 20000; i++) {
    const v = -random() * 10 ** Math.floor(random() * 6 - 3);
    const s = formatFloat32Fast(v);
    t.is(Math.fround(Number(s)), Math.fround(v), s);
    const significant = s.replace(/^-/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
    t.true(significant.length <= 9, `${s} has more digits than a float32 needs`);
  }
});

test('a number written again (from the cache of formatted texts) is the same text as the first time', (t) => {
  // 40k distinct values over a 64k-slot cache: the second pass mixes hits with slots another value took.
  const random = seededRandom(17);
  const values = Array.from({ length: 40000 }, (_, i) => (i % 7 === 0 ? -1e-20 * random() : -random() * 10 ** Math.floor(random() * 6 - 3)));
  const first = values.map((v) => formatFloat32Fast(v));
  t.is(first.filter((text, i) => Math.fround(Number(text)) !== Math.fround(values[i])).length, 0);
  t.is(values.filter((v, i) => formatFloat32Fast(v) !== first[i]).length, 0);
});

test('dbslm sample prints the requested number of detokenized sentences, repeatably with --seed', (t) => {
  const dir = tempDir('dbslm-sample-');
  const model = path.join(dir, 'm.arpa');
  t.is(spawnSync(process.execPath, [CLI, 'build', '-q', '--order', '3', '--arpa', model, BUNDLED_TRAIN]).status, 0);
  const run = () => spawnSync(process.execPath, [CLI, 'sample', '--arpa', model, '--n', '4', '--seed', '42'], { encoding: 'utf8' });
  const a = run();
  t.is(a.status, 0, a.stderr);
  const lines = a.stdout.trim().split('\n');
  t.is(lines.length, 4);
  t.false(/ [,.;:]/.test(a.stdout), 'punctuation is attached (detokenized)');
  t.is(run().stdout, a.stdout, 'same seed, same sentences');
});
