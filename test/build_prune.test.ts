// Count pruning (`dbslm build --prune`, as lmplz --prune), through the real CLI: the pruned KJV
// order-5 model equals lmplz's reference entry by entry and in its n-gram set, scores to the
// reference perplexity, is accepted by KenLM's query and build_binary, and is normalized; other
// threshold patterns equal lmplz run live on a small corpus; bad thresholds are refused.
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { readArpa } from '../model/arpa_read.js';
import { buildModel } from '../model/build.js';
import { decodeUtf8, IdStream, readWhitespace } from '../model/corpus_read.js';
import { NextWordDistribution } from '../model/distribution.js';
import type { LanguageModel } from '../model/language_model.js';
import { seededRandom } from '../model/sample.js';
import { pruneThresholds } from '../model/prune.js';
import { BOS, Vocab } from '../model/vocab.js';
import { assertSameModel } from './helpers/model_compare.js';
import { BUNDLED_TRAIN, CLI, HAS_SHARED, SHARED, SHARED_SKIP_NOTE } from './helpers/paths.js';
import { tempDir } from './helpers/temp_dir.js';

const KENLM_REF = path.join(SHARED, 'reference', 'kenlm');
const KENLM_BIN = path.join(SHARED, 'tools', 'kenlm');
const CORPORA = path.join(SHARED, 'corpora');

function tmp(t?: ExecutionContext): string {
  const dir = tempDir('dbslm-prune-');
  t?.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function run(cmd: string, args: string[], input?: string) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 1 << 28 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function dbslm(args: string[]) {
  return run(process.execPath, [CLI, ...args]);
}

function loadArpa(file: string): LanguageModel {
  const raw = fs.readFileSync(file);
  return readArpa((file.endsWith('.gz') ? zlib.gunzipSync(raw) : raw).toString('utf8'), file);
}

/** "Perplexity including OOVs: X" and the others, as both dbslm ppl and KenLM query print them. */
function perplexityLines(out: string): { including: number; excluding: number; oov: number; tokens: number } {
  const num = (label: string) => {
    const m = new RegExp(`^${label}:\\s*([\\d.e+-]+)`, 'm').exec(out);
    if (!m) throw new Error(`no "${label}" in output:\n${out.slice(-2000)}`);
    return Number(m[1]);
  };
  return { including: num('Perplexity including OOVs'), excluding: num('Perplexity excluding OOVs'), oov: num('OOVs'), tokens: num('Tokens') };
}

/** The largest |sum over the vocabulary of p(w | h) - 1| over contexts drawn from the model's own entries. */
function worstNormalization(lm: LanguageModel, perOrder: number): { worst: number; contexts: number } {
  const random = seededRandom(7);
  const byOrder: number[][] = Array.from({ length: lm.order }, () => []);
  for (let n = 1; n < lm.trie.size; n++) {
    const k = lm.trie.order[n];
    if (k < lm.order && !Number.isNaN(lm.logProb[n])) byOrder[k].push(n);
  }
  const histories: number[][] = [[BOS]];
  for (let k = 1; k < lm.order; k++) {
    for (let i = 0; i < perOrder && byOrder[k].length; i++) {
      const n = byOrder[k][Math.floor(random() * byOrder[k].length)];
      histories.push([Math.floor(random() * lm.vocab.size), ...lm.trie.path(n)]);
    }
  }
  const dist = new NextWordDistribution(lm);
  let worst = 0;
  for (const h of histories) {
    const p = dist.probabilities(h);
    let sum = 0;
    for (let w = 0; w < p.length; w++) if (w !== BOS) sum += p[w];
    worst = Math.max(worst, Math.abs(sum - 1));
  }
  return { worst, contexts: histories.length };
}

/** The reference README's figures row for the pruned model. */
function prunedReferenceFigures() {
  const readme = fs.readFileSync(path.join(KENLM_REF, 'README.md'), 'utf8');
  const row = /\|\s*order 5, --prune 0 1 1 1 1\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|/.exec(readme);
  if (!row) throw new Error(`no pruned figures row in ${KENLM_REF}/README.md`);
  return { including: Number(row[1]), excluding: Number(row[2]), oov: Number(row[3]), tokens: Number(row[4]) };
}

test('the pruned bundled corpus model (in memory, float64) is normalized and drops only longer n-grams', (t) => {
  const build = (prune: string[]) => {
    const vocab = new Vocab();
    const ids = new IdStream();
    readWhitespace(decodeUtf8(fs.readFileSync(BUNDLED_TRAIN), BUNDLED_TRAIN), BUNDLED_TRAIN, vocab, ids);
    return buildModel(ids.view, vocab, { order: 4, prune: pruneThresholds(prune, 4) }).lm;
  };
  const a = build([]);
  const b = build(['0', '1']);
  const count = (lm: LanguageModel, k: number) => {
    let c = 0;
    for (let n = 1; n < lm.trie.size; n++) if (lm.trie.order[n] === k && !Number.isNaN(lm.logProb[n])) c++;
    return c;
  };
  t.is(count(b, 1), count(a, 1), 'unigrams are never pruned');
  for (let k = 2; k <= 4; k++) t.true(count(b, k) < count(a, k), `fewer ${k}-grams`);
  const { worst, contexts } = worstNormalization(b, 40);
  t.log(`${contexts} contexts: max |sum - 1| = ${worst.toExponential(2)}`);
  t.true(worst < 1e-9, `sum differs from 1 by ${worst}`);
});

for (const [values, expect] of [
  [['0', '2', '1'], /non-decreasing.*got 1 for order 3 after 2/],
  [['0', '-1'], /bad threshold "-1"/],
  [['0', '1.5'], /bad threshold "1\.5"/],
  [['0', '1', '1', '1'], /orders 1 through 4 but the model has order 3/],
  [['1', '1'], /unigram threshold must be 0/],
] as const) {
  test(`--prune ${values.join(' ')} is refused with a clear error`, (t) => {
    const dir = tmp(t);
    const out = path.join(dir, 'out.arpa');
    const r = dbslm(['build', '--order', '3', '--prune', ...values, '--arpa', out, BUNDLED_TRAIN]);
    t.is(r.code, 1, `exit code; stderr: ${r.stderr}`);
    t.regex(r.stderr, expect);
    t.regex(r.stderr, /hint: .*--prune 0 1 1 1 1/);
    t.false(fs.existsSync(out), 'no ARPA written');
  });
}

test('inputs written after the thresholds are inputs, not thresholds', (t) => {
  const dir = tmp(t);
  const before = path.join(dir, 'before.arpa');
  const after = path.join(dir, 'after.arpa');
  t.is(dbslm(['build', '-q', '--order', '3', '--prune', '0', '1', '--arpa', before, BUNDLED_TRAIN]).code, 0);
  const r = dbslm(['build', '-q', '--order', '3', '--arpa', after, '--prune', '0', '1', BUNDLED_TRAIN]);
  t.is(r.code, 0, r.stderr);
  t.true(fs.readFileSync(after).equals(fs.readFileSync(before)), 'the same model either way');
});

if (!HAS_SHARED) {
  test.skip(`pruned KJV order 5 equals lmplz's reference: ${SHARED_SKIP_NOTE}`, () => {});
  test.skip(`KenLM query and build_binary accept the pruned ARPA: ${SHARED_SKIP_NOTE}`, () => {});
  test.skip(`other thresholds equal lmplz run live: ${SHARED_SKIP_NOTE}`, () => {});
} else {
  const dir = tmp();
  test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));
  const ours = path.join(dir, 'kjv5.prune01111.arpa');
  let built: ReturnType<typeof dbslm> | undefined;
  // One full-KJV order-5 build for the whole file, made by the first test that needs it.
  const buildOnce = () => (built ??= dbslm(['build', '-q', '--order', '5', '--prune', '0', '1', '1', '1', '1', '--arpa', ours, path.join(CORPORA, 'kjv.train.txt')]));

  test.serial("build --prune 0 1 1 1 1 of kjv.train.txt equals lmplz's pruned reference, scores to its perplexity and is normalized", (t) => {
    const r = buildOnce();
    t.is(r.code, 0, r.stderr);
    const got = loadArpa(ours);
    const want = loadArpa(path.join(KENLM_REF, 'kjv5.prune01111.arpa.gz'));
    assertSameModel(t, got, want, 1e-5);

    const ppl = perplexityLines(dbslm(['ppl', '--arpa', ours, path.join(CORPORA, 'kjv.test.txt')]).stdout);
    const ref = prunedReferenceFigures();
    const rel = Math.abs(ppl.including - ref.including) / ref.including;
    const relEx = Math.abs(ppl.excluding - ref.excluding) / ref.excluding;
    t.log(`dbslm ppl: ${ppl.including} incl. OOV (KenLM ${ref.including}, rel ${rel.toExponential(2)}), ${ppl.excluding} excl. (rel ${relEx.toExponential(2)})`);
    t.true(rel < 1e-6 && relEx < 1e-6, 'perplexities within 1e-6 relative');
    t.is(ppl.oov, ref.oov);
    t.is(ppl.tokens, ref.tokens);

    const { worst, contexts } = worstNormalization(got, 25);
    t.log(`${contexts} contexts: max |sum - 1| = ${worst.toExponential(2)}`);
    t.true(worst < 1e-6, `sum differs from 1 by ${worst} (the ARPA holds float32 text)`);
  });

  test.serial("KenLM's query and build_binary accept the pruned ARPA dbslm writes", (t) => {
    t.is(buildOnce().code, 0);
    const testText = fs.readFileSync(path.join(CORPORA, 'kjv.test.txt'), 'utf8');
    const q = run(path.join(KENLM_BIN, 'query'), [ours], testText);
    t.is(q.code, 0, q.stderr);
    const ref = prunedReferenceFigures();
    const got = perplexityLines(q.stdout);
    t.true(Math.abs(got.including - ref.including) / ref.including < 1e-6, `query's perplexity ${got.including} vs ${ref.including}`);
    const bin = path.join(dir, 'kjv5.prune01111.binary');
    const b = run(path.join(KENLM_BIN, 'build_binary'), [ours, bin]);
    t.is(b.code, 0, b.stderr);
    const qb = run(path.join(KENLM_BIN, 'query'), [bin], testText);
    t.is(qb.code, 0, qb.stderr);
    t.true(Math.abs(perplexityLines(qb.stdout).including - ref.including) / ref.including < 1e-6, 'the same perplexity from the binary');
  });

  for (const [order, values] of [
    [3, ['0', '1', '2']],
    [4, ['0', '0', '1']],
    [5, ['0', '2', '3']],
  ] as const) {
    test(`order ${order}, --prune ${values.join(' ')} on 4000 KJV lines equals lmplz run now`, (t) => {
      const work = tmp(t);
      const corpus = path.join(work, 'corpus.txt');
      const lines = fs.readFileSync(path.join(CORPORA, 'kjv.train.txt'), 'utf8').split('\n').slice(0, 4000);
      fs.writeFileSync(corpus, lines.join('\n') + '\n');
      const theirs = path.join(work, 'lmplz.arpa');
      const l = run(path.join(KENLM_BIN, 'lmplz'), ['-o', String(order), '-S', '100M', '-T', work, '--prune', ...values, '--text', corpus, '--arpa', theirs]);
      t.is(l.code, 0, l.stderr);
      const mine = path.join(work, 'dbslm.arpa');
      const r = dbslm(['build', '-q', '--order', String(order), '--prune', ...values, '--arpa', mine, corpus]);
      t.is(r.code, 0, r.stderr);
      assertSameModel(t, loadArpa(mine), loadArpa(theirs), 1e-5);
    });
  }
}
