// npm run bench:build: `dbslm build` of order 3 and 5 from kjv.train.txt, as a user runs it
// (a fresh process reading text and writing ARPA), by default (the ARPA formatted on two threads
// where there are two cores), with --threads 1 and with --threads 2 (counting on two as well),
// alternating with KenLM's `lmplz -S 256M` and `-S 4G` on the same text in the same
// run (absolute times drift 10-20% on shared machines; a ratio taken in one run holds). Without
// ../shared/tools/kenlm only dbslm's figures are printed.
//
// Phases are the build's own stderr lines, wall time on its main thread: with 2 threads,
// "reading" also counts (on the other thread) and "counting" is what is left of counting once
// reading is done; "start-up" is the process's wall time outside the build's own total (Node's
// start, module loading, argument parsing, exit).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// The installed command (bin/dbslm: Node with malloc tuned for huge pages), as a user runs it.
const cli = path.join(root, 'bin', 'dbslm');
const corpus = path.resolve(root, '..', 'shared', 'corpora', 'kjv.train.txt');
if (!fs.existsSync(corpus)) {
  console.log(`bench:build needs ${corpus} (../shared beside the clone); it is absent, so nothing was measured.`);
  process.exit(0);
}
const lmplzBin = path.resolve(root, '..', 'shared', 'tools', 'kenlm', 'lmplz');
const hasLmplz = fs.existsSync(lmplzBin);
const words = 870248;
const runs = Number(process.env.BENCH_RUNS ?? 5);
const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dbslm-bench-')), 'm.arpa');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Wall seconds of one whole process. */
function timed(argv: string[]): { wall: number; stderr: string } {
  const t0 = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { wall, stderr: r.stderr };
}

console.log(`dbslm build on kjv.train.txt (${words} words), ${runs} runs each alternating with lmplz, median; ${os.cpus().length} cores`);
console.log('order | threads | wall s | words/s | peak RSS MB | phases of the median run (s) | lmplz -S 4G s | ratio | lmplz -S 256M s | ratio');
for (const order of [3, 5]) {
  const builds = ['default', '1', '2'].map((threads) => ({ threads, walls: [] as number[], phases: [] as string[], rss: 0 }));
  const s4g: number[] = [];
  const s256m: number[] = [];
  // Every case once per round, and each round starts one case later: the run after lmplz's (whose
  // 70 MB of output the kernel is still writing back) was the slowest of a round whatever it was.
  type Case = () => void;
  const cases: Case[] = builds.map((b) => () => {
    const r = timed([cli, 'build', '--order', String(order), ...(b.threads === 'default' ? [] : ['--threads', b.threads]), '--arpa', out, corpus]);
    b.walls.push(r.wall);
    b.rss = Math.max(b.rss, Number(/peak RSS (\d+) MB/.exec(r.stderr)?.[1] ?? 0));
    const total = Number(/\(([\d.]+) s total/.exec(r.stderr)?.[1] ?? 0);
    const phases = [...r.stderr.matchAll(/build: (\w+)[^\n]* done in ([\d.]+) s/g)].map((m) => `${m[1]} ${m[2]}`);
    b.phases.push([`start-up ${(r.wall - total).toFixed(2)}`, ...phases].join(', '));
  });
  if (hasLmplz) {
    for (const [memory, into] of [['4G', s4g], ['256M', s256m]] as const) {
      cases.push(() => into.push(timed([lmplzBin, '-o', String(order), '-S', memory, '-T', path.dirname(out), '--text', corpus, '--arpa', `${out}.lmplz`]).wall));
    }
  }
  for (let i = 0; i < runs; i++) for (let j = 0; j < cases.length; j++) cases[(i + j) % cases.length]!();
  for (const b of builds) {
    const wall = median(b.walls);
    const kenlm = (xs: number[]) => (xs.length ? `${median(xs).toFixed(2)} | ${(wall / median(xs)).toFixed(2)}x` : 'no lmplz | -');
    const phases = b.phases[b.walls.indexOf(wall)];
    console.log(`${order} | ${b.threads} | ${wall.toFixed(2)} | ${Math.round(words / wall).toLocaleString('en')} | ${b.rss} | ${phases} | ${kenlm(s4g)} | ${kenlm(s256m)}`);
  }
}
fs.rmSync(path.dirname(out), { recursive: true, force: true });

// The memory bound (issue 9): kjv.train.txt repeated 10 times, order 5, `--memory 300M` (and
// with BENCH_MEMORY_SPILL=1 64M, which spills) against the unbounded build and `lmplz -S 300M`, alternating in one run; wall and peak RSS of each whole
// process from /usr/bin/time. BENCH_MEMORY_RUNS (default 3) runs each, median; 0 skips it.
// Repeated text has no n-gram seen once or twice, so all three take the fallback discounts.
const memoryRuns = Number(process.env.BENCH_MEMORY_RUNS ?? 3);
const lmplz = path.resolve(root, '..', 'shared', 'tools', 'kenlm', 'lmplz');
if (memoryRuns > 0) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbslm-bench-memory-'));
  try {
    const big = path.join(dir, 'kjv.train.x10.txt');
    const text = fs.readFileSync(corpus);
    fs.writeFileSync(big, Buffer.concat(Array.from({ length: 10 }, () => text)));
    const arpa = path.join(dir, 'm.arpa');
    const cases: { name: string; argv: string[] }[] = [
      { name: 'dbslm build, unbounded', argv: [cli, 'build', '--order', '5', '--discount-fallback', '--arpa', arpa, big] },
      { name: 'dbslm build --memory 300M', argv: [cli, 'build', '--order', '5', '--discount-fallback', '--memory', '300M', '--temp', dir, '--arpa', arpa, big] },
    ];
    // BENCH_MEMORY_SPILL=1: also a budget the table cannot fit, to show what spilling costs (its
    // runs take about 0.3 GB in the temporary directory at once).
    if (process.env.BENCH_MEMORY_SPILL === '1') cases.push({ name: 'dbslm build --memory 64M', argv: [cli, 'build', '--order', '5', '--discount-fallback', '--memory', '64M', '--temp', dir, '--arpa', arpa, big] });
    if (fs.existsSync(lmplz)) cases.push({ name: 'lmplz -S 300M', argv: [lmplz, '-o', '5', '-S', '300M', '--discount_fallback', '-T', dir, '--text', big, '--arpa', arpa] });
    const wall = cases.map(() => [] as number[]);
    const rss = cases.map(() => 0);
    const runsSpilled = cases.map(() => '');
    for (let i = 0; i < memoryRuns; i++) {
      cases.forEach((c, j) => {
        const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %M', ...c.argv], { encoding: 'utf8', maxBuffer: 1 << 26 });
        const m = /TIME ([\d.]+) (\d+)\s*$/.exec(r.stderr);
        if (r.status !== 0 || !m) throw new Error(`${c.name} failed: ${r.stderr.slice(-2000)}`);
        wall[j].push(Number(m[1]));
        rss[j] = Math.max(rss[j], Math.round(Number(m[2]) / 1024));
        runsSpilled[j] = /spilled (\d+) sorted runs/.exec(r.stderr)?.[1] ?? '';
      });
    }
    const median = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
    const base = median(wall[cases.length - 1]);
    console.log(`\nkjv.train.txt x10 (${(10 * words).toLocaleString('en')} words), order 5, ${memoryRuns} runs each alternating, median wall; peak RSS over the runs`);
    console.log(`case | wall s | peak RSS MB | runs spilled | wall vs ${cases[cases.length - 1].name}`);
    cases.forEach((c, j) => console.log(`${c.name} | ${median(wall[j]).toFixed(2)} | ${rss[j]} | ${runsSpilled[j] || '-'} | ${(median(wall[j]) / base).toFixed(2)}x`));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
