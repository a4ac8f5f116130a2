// npm run bench:build: `dbslm build` of order 3 and 5 from kjv.train.txt, as a user runs it
// (a fresh process reading text and writing ARPA), beside KenLM lmplz's figures on this machine
// class from ../shared/reference/kenlm/README.md.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = path.join(root, 'dist', 'cli', 'main.js');
const corpus = path.resolve(root, '..', 'shared', 'corpora', 'kjv.train.txt');
if (!fs.existsSync(corpus)) {
  console.log(`bench:build needs ${corpus} (../shared beside the clone); it is absent, so nothing was measured.`);
  process.exit(0);
}
// KenLM lmplz, medians of 5 on a 2-core machine (reference README): wall seconds at -S 4G, -S 256M.
const KENLM: Record<number, { s4g: number; s256m: number }> = { 3: { s4g: 1.0, s256m: 0.48 }, 5: { s4g: 1.7, s256m: 1.01 } };
const words = 870248;
const runs = Number(process.env.BENCH_RUNS ?? 5);
const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dbslm-bench-')), 'm.arpa');

console.log(`dbslm build on kjv.train.txt (${words} words), ${runs} runs each, median; ${os.cpus().length} cores`);
console.log('order | wall s | words/s | peak RSS MB | phases (s) | KenLM -S 4G | ratio | KenLM -S 256M | ratio');
for (const order of [3, 5]) {
  const walls: number[] = [];
  let rss = 0;
  let phases = '';
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [cli, 'build', '--order', String(order), '--arpa', out, corpus], { encoding: 'utf8' });
    walls.push((performance.now() - t0) / 1000);
    if (r.status !== 0) throw new Error(r.stderr);
    rss = Math.max(rss, Number(/peak RSS (\d+) MB/.exec(r.stderr)?.[1] ?? 0));
    phases = [...r.stderr.matchAll(/build: (\w+)[^\n]* done in ([\d.]+) s/g)].map((m) => `${m[1]} ${m[2]}`).join(', ');
  }
  walls.sort((a, b) => a - b);
  const wall = walls[Math.floor(walls.length / 2)];
  const k = KENLM[order];
  console.log(
    `${order} | ${wall.toFixed(2)} | ${Math.round(words / wall).toLocaleString('en')} | ${rss} | ${phases} | ${k.s4g} | ${(wall / k.s4g).toFixed(2)}x | ${k.s256m} | ${(wall / k.s256m).toFixed(2)}x`,
  );
}
fs.rmSync(path.dirname(out), { recursive: true, force: true });
