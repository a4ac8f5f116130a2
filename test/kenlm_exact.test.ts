// Exactness against KenLM's lmplz/query on the KJV corpus (../shared/reference/kenlm). A model
// that differs is a bug: correct float64 maths lands within one float32 step (~5e-7) of KenLM,
// while the plausible mistakes (1/|V| for the uniform, rounded discounts) move entries by 3e-5.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { readArpa } from '../model/arpa_read.js';
import type { LanguageModel } from '../model/language_model.js';
import { perplexity, Scorer, type SentenceScore } from '../model/score.js';
import { buildFromFile } from './helpers/corpus.js';
import { HAS_SHARED, SHARED, SHARED_SKIP_NOTE } from './helpers/paths.js';

const KENLM = path.join(SHARED, 'reference', 'kenlm');
const CORPORA = path.join(SHARED, 'corpora');

interface Reference {
  includingOov: number;
  excludingOov: number;
  oov: number;
  tokens: number;
}

/** The figures table of the reference README: | order N | ppl incl | ppl excl | OOV | tokens | ... */
function referenceFigures(order: number): Reference {
  const readme = fs.readFileSync(path.join(KENLM, 'README.md'), 'utf8');
  const row = new RegExp(`\\|\\s*order ${order}\\s*\\|\\s*([\\d.]+)\\s*\\|\\s*([\\d.]+)\\s*\\|\\s*(\\d+)\\s*\\|\\s*(\\d+)\\s*\\|`).exec(readme);
  if (!row) throw new Error(`no figures for order ${order} in ${KENLM}/README.md`);
  return { includingOov: Number(row[1]), excludingOov: Number(row[2]), oov: Number(row[3]), tokens: Number(row[4]) };
}

function compareModels(ours: LanguageModel, ref: LanguageModel) {
  const order = ref.order;
  const refCounts = new Array<number>(order + 1).fill(0);
  const matched = new Array<number>(order + 1).fill(0);
  let maxProb = 0;
  let sumProb = 0;
  let maxBackoff = 0;
  let worst = '';
  const ids: number[] = [];
  for (let r = 1; r < ref.trie.size; r++) {
    if (Number.isNaN(ref.logProb[r])) continue;
    const k = ref.trie.order[r];
    refCounts[k]++;
    ids.length = 0;
    for (const id of ref.trie.path(r)) ids.push(ours.vocab.lookup(ref.vocab.word(id)));
    const n = ours.trie.findPath(ids);
    if (n < 0 || Number.isNaN(ours.logProb[n])) continue;
    matched[k]++;
    const dp = Math.abs(ours.logProb[n] - ref.logProb[r]);
    sumProb += dp;
    if (dp > maxProb) {
      maxProb = dp;
      worst = ref.trie.path(r).map((id) => ref.vocab.word(id)).join(' ');
    }
    if (k < order) maxBackoff = Math.max(maxBackoff, Math.abs(ours.backoff[n] - ref.backoff[r]));
  }
  const ourCounts = new Array<number>(order + 1).fill(0);
  for (let n = 1; n < ours.trie.size; n++) if (!Number.isNaN(ours.logProb[n])) ourCounts[ours.trie.order[n]]++;
  return { refCounts, ourCounts, matched, maxProb, meanProb: sumProb / matched.reduce((a, b) => a + b, 0), maxBackoff, worst };
}

function scoreFile(lm: LanguageModel, file: string): SentenceScore[] {
  const scorer = new Scorer(lm);
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((line) => scorer.sentence(line.split(/[ \t\r\0\v\f]+/).filter(Boolean).map((w) => lm.vocab.lookup(w))));
}

for (const order of [3, 5]) {
  if (!HAS_SHARED) {
    test.skip(`order ${order} equals KenLM: ${SHARED_SKIP_NOTE}`, () => {});
    continue;
  }
  test.serial(`order ${order} built from kjv.train.txt equals KenLM's model, sentence scores and perplexity`, (t) => {
    const built = buildFromFile(path.join(CORPORA, 'kjv.train.txt'), order);
    const ref = readArpa(zlib.gunzipSync(fs.readFileSync(path.join(KENLM, `kjv${order}.arpa.gz`))).toString('utf8'), `kjv${order}.arpa.gz`);

    const cmp = compareModels(built.lm, ref);
    t.log(`order ${order}: n-grams ${cmp.ourCounts.slice(1).join('/')}; max |dlog10p| ${cmp.maxProb.toExponential(2)} (at "${cmp.worst}"), mean ${cmp.meanProb.toExponential(2)}, max |dbackoff| ${cmp.maxBackoff.toExponential(2)}`);
    t.deepEqual(cmp.ourCounts, cmp.refCounts, 'entries per order');
    t.deepEqual(cmp.matched, cmp.refCounts, 'every KenLM n-gram is one of ours');
    t.true(cmp.maxProb < 1e-5, `max log10 prob difference ${cmp.maxProb}`);
    t.true(cmp.maxBackoff < 1e-5, `max backoff difference ${cmp.maxBackoff}`);

    const scores = scoreFile(built.lm, path.join(CORPORA, 'kjv.test.txt'));
    const refLines = fs.readFileSync(path.join(KENLM, `kjv${order}.test.sentence_log10.txt`), 'utf8').trim().split('\n');
    t.is(scores.length, refLines.length, 'one score per test line');
    let worstRel = 0;
    let oovMismatch = 0;
    refLines.forEach((line, i) => {
      const [total, , oov] = line.split(/\s+/);
      const rel = Math.abs(scores[i].total - Number(total)) / Math.max(1e-9, Math.abs(Number(total)));
      worstRel = Math.max(worstRel, rel);
      if (scores[i].oov !== Number(oov)) oovMismatch++;
    });
    t.log(`per-sentence totals: worst relative difference ${worstRel.toExponential(2)}`);
    t.true(worstRel < 1e-5, `sentence totals within 1e-5 relative (worst ${worstRel})`);
    t.is(oovMismatch, 0, 'OOV counts per sentence');

    const p = perplexity(scores);
    const want = referenceFigures(order);
    const relIn = Math.abs(p.includingOov - want.includingOov) / want.includingOov;
    const relEx = Math.abs(p.excludingOov - want.excludingOov) / want.excludingOov;
    t.log(`perplexity incl. OOV ${p.includingOov} (KenLM ${want.includingOov}, rel ${relIn.toExponential(2)}); excl. ${p.excludingOov} (KenLM ${want.excludingOov}, rel ${relEx.toExponential(2)})`);
    t.true(relIn < 1e-6);
    t.true(relEx < 1e-6);
    t.is(p.oov, want.oov);
    t.is(p.tokens, want.tokens);

    // KenLM's own model scored by our query equals its reference sentence scores too.
    const theirs = scoreFile(ref, path.join(CORPORA, 'kjv.test.txt'));
    const worstTheirs = Math.max(...refLines.map((l, i) => Math.abs(theirs[i].total - Number(l.split(/\s+/)[0]))));
    t.true(worstTheirs < 1e-4, `scoring KenLM's ARPA reproduces query's totals (worst abs ${worstTheirs})`);
  });
}
