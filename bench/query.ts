// npm run bench:query: scoring throughput of a loaded model on kjv.test.txt repeated 100 times,
// beside KenLM query's ~9.5M tokens/s (order 5) and 10-12M (order 3) on this machine class; then
// ppl as whole processes from ARPA and binary beside KenLM's query (bench/query_processes.ts).
// BENCH_ORDERS=5 limits the first part to order 5; BENCH_RUNS sets the rounds of the second.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildModel } from '../model/build.js';
import { decodeUtf8, IdStream, readWhitespace } from '../model/corpus_read.js';
import { quantizeModel } from '../model/quantize.js';
import { perplexity, Scorer } from '../model/score.js';
import { Vocab } from '../model/vocab.js';
import { benchQueryProcesses } from './query_processes.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const corpora = path.resolve(root, '..', 'shared', 'corpora');
if (!fs.existsSync(path.join(corpora, 'kjv.test.txt'))) {
  console.log(`bench:query needs ${corpora} (../shared beside the clone); it is absent, so nothing was measured.`);
  process.exit(0);
}
const KENLM: Record<number, number> = { 3: 11e6, 5: 9.5e6 };
const repeat = 100;
const testLines = fs.readFileSync(path.join(corpora, 'kjv.test.txt'), 'utf8').split('\n').filter((l) => l !== '');

console.log(`scoring kjv.test.txt x${repeat} (${testLines.length * repeat} sentences)`);
console.log('order | tokens | score-only tokens/s (wall) | per CPU-second | with tokenizing tokens/s | KenLM tokens/s | ratio (wall) | total log10 (one pass)');
const quantized: string[] = [];
const orders = (process.env.BENCH_ORDERS ?? '3,5').split(',').map(Number);
for (const order of orders) {
  const vocab = new Vocab();
  const stream = new IdStream();
  readWhitespace(decodeUtf8(fs.readFileSync(path.join(corpora, 'kjv.train.txt')), 'kjv.train.txt'), 'kjv.train.txt', vocab, stream);
  const { lm } = buildModel(stream.view, vocab, { order });
  const scorer = new Scorer(lm);
  const sentences = testLines.map((l) => Int32Array.from(l.split(' ').filter(Boolean), (w) => vocab.lookup(w)));
  let tokens = 0;
  let total = 0;
  // Warm up once so the JIT has compiled the scoring loop, as a long-running server would have.
  for (const s of sentences) total += scorer.sentence(s).total;
  const onePass = total;
  let t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let r = 0; r < repeat; r++) for (const s of sentences) tokens += scorer.sentence(s).tokens;
  const scoreOnly = tokens / ((performance.now() - t0) / 1000);
  // CPU time too: scoring is one thread, so tokens per CPU-second stays meaningful when other
  // work shares the cores and stretches the wall clock.
  const cpu = process.cpuUsage(cpu0);
  const perCpuSecond = tokens / ((cpu.user + cpu.system) / 1e6);
  t0 = performance.now();
  tokens = 0;
  for (let r = 0; r < repeat; r++) {
    for (const line of testLines) {
      const ids = line.split(' ').filter(Boolean).map((w) => vocab.lookup(w));
      tokens += scorer.sentence(ids).tokens;
    }
  }
  const withTok = tokens / ((performance.now() - t0) / 1000);
  const fmt = (v: number) => `${(v / 1e6).toFixed(2)}M`;
  console.log(`${order} | ${tokens} | ${fmt(scoreOnly)} | ${fmt(perCpuSecond)} | ${fmt(withTok)} | ${fmt(KENLM[order])} | ${(scoreOnly / KENLM[order]).toFixed(2)}x | ${onePass.toFixed(4)}`);
  const ppl = (m: typeof lm) => {
    const s = new Scorer(m);
    return perplexity(sentences.map((ids) => s.sentence(ids))).includingOov;
  };
  const base = ppl(lm);
  const costs = [8, 4].map((bits) => {
    const q = ppl(quantizeModel(lm, bits).lm);
    return `${bits}-bit ${q.toFixed(3)} (${(((q - base) / base) * 100).toFixed(3)}%)`;
  });
  quantized.push(`order ${order}: float ${base.toFixed(3)}; ${costs.join('; ')}`);
}
console.log('\nperplexity on kjv.test.txt with quantized log-probs and backoffs (orders >= 2; unigrams exact):');
for (const line of quantized) console.log(line);

// Whole processes beside KenLM's query, and loading: bench/query_processes.ts.
const kenlm = path.resolve(root, '..', 'shared', 'tools', 'kenlm');
benchQueryProcesses({
  // The installed command (bin/dbslm: Node with malloc tuned for huge pages), as a user runs it.
  cli: path.join(root, 'bin', 'dbslm'),
  corpora,
  kenlm: fs.existsSync(path.join(kenlm, 'query')) ? kenlm : undefined,
  rounds: Number(process.env.BENCH_RUNS ?? 5),
});
