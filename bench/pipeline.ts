// npm run bench:pipeline, or `dbslm bench pipeline [FILE.yaml]`: `dbslm pipeline run FILE` (default
// config/pipelines/kjv5.yaml: order 5 of kjv.train.txt; the whole run: count, smoothing in the store,
// ARPA export) for count workers 1/2/4 x store actors 1/3, each into a fresh store data directory,
// as a user runs it (a fresh process, --json summary).
// Prints end-to-end words/s, the time of each phase and the peak RSS of every process; when
// ../shared/tools/kenlm/lmplz exists, times `lmplz -o ORDER -S 256M` on the same text in the same run,
// alternating with the pipeline runs (absolute times drift 10-20% on shared machines, a ratio
// taken in one run holds). BENCH_QUICK=1: only 2 workers x 3 actors. BENCH_REPEAT=N: the input
// (one text file) repeated N times, in a temporary file, for lmplz too: the memory bound's check
// (every process under 500 MB at N = 10 on kjv.train.txt, which has the same distinct n-grams).
// Repeated text has no n-gram seen once or twice, so both get --discount-fallback then.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Table from 'cli-table3';
import { loadPipeline } from '../pipeline/definition/load.js';
import { formatProblem, sortProblems } from '../pipeline/definition/problems.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// The installed command (bin/dbslm: Node with malloc tuned for huge pages), as a user runs it.
const cli = path.join(root, 'bin', 'dbslm');
const yaml = path.resolve(process.argv[2] ?? path.join(root, 'config', 'pipelines', 'kjv5.yaml'));
const lmplz = path.resolve(root, '..', 'shared', 'tools', 'kenlm', 'lmplz');
const loaded = loadPipeline(yaml, []);
if (loaded.definition === null) {
  for (const p of sortProblems(loaded.problems)) console.log(formatProblem(p));
  process.exit(1);
}
const definition = loaded.definition;
const order = definition.order;
// lmplz reads one text file: the comparison runs when the pipeline has exactly that.
const only = definition.inputs.length === 1 && definition.inputs[0]!.format === 'text' ? definition.inputs[0]!.path : null;
const given = only !== null && fs.existsSync(only) && fs.statSync(only).isFile() ? only : null;
if (only !== null && !fs.existsSync(only)) {
  console.log(`bench:pipeline needs ${only} (for kjv5.yaml: ../shared beside the clone); it is absent, so nothing was measured.`);
  process.exit(0);
}
const quick = process.env.BENCH_QUICK === '1';
const repeat = Number(process.env.BENCH_REPEAT ?? 1);
if (!(Number.isInteger(repeat) && repeat >= 1)) throw new Error(`BENCH_REPEAT must be an integer >= 1, got ${process.env.BENCH_REPEAT}`);
if (repeat > 1 && given === null) throw new Error('BENCH_REPEAT needs a pipeline with one text file as its input');
const shapes = quick ? [{ workers: 2, actors: 3 }] : [1, 2, 4].flatMap((workers) => [1, 3].map((actors) => ({ workers, actors })));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dbslm-bench-pipeline-'));
/** The text lmplz and the pipeline read: the input, or it repeated BENCH_REPEAT times. */
const corpus = given === null || repeat === 1 ? given : path.join(tmp, `x${repeat}.${path.basename(given)}`);
const discountFallback = definition.discountFallback || repeat > 1;
if (corpus !== null && corpus !== given) {
  const text = fs.readFileSync(given!);
  for (let i = 0; i < repeat; i++) fs.appendFileSync(corpus, text);
}

/** The parts of the --json summary (pipeline/runtime/run_report.ts) the table shows. */
interface Summary {
  counting: { words: number; elapsedMs: number; stages: { name: string; workers: number; maxRssKb: number }[] };
  smooth: { phaseMs: Record<string, number> };
  phaseMs: Record<string, number>;
  coordinatorRssKb: number;
  storeRss: { id: string; kb: number | null }[];
}

const mb = (kb: number | null | undefined) => (kb == null ? '?' : String(Math.round(kb / 1024)));
const s = (ms: number | undefined) => (ms === undefined ? '-' : (ms / 1000).toFixed(1));

/** One pipeline run, tried up to 3 times; the failures are counted and shown, not hidden. */
function runPipelineRetrying(workers: number, actors: number, i: number): { wallMs: number; summary: Summary; failures: string[] } {
  const failures: string[] = [];
  for (let attempt = 0; ; attempt++) {
    try {
      return { ...runPipeline(workers, actors, `${i}-${attempt}`), failures };
    } catch (err) {
      failures.push(/error: ([^\n]*)/.exec((err as Error).message)?.[1] ?? (err as Error).message);
      if (attempt === 2) throw err;
    }
  }
}

function runPipeline(workers: number, actors: number, i: string): { wallMs: number; summary: Summary } {
  const data = path.join(tmp, `store-${i}`);
  const t0 = performance.now();
  const r = spawnSync(
    cli,
    ['pipeline', 'run', yaml, '--json', '--quiet', ...(corpus !== given ? ['--set', `inputs[0].path=${corpus}`, '--set', 'discount_fallback=true'] : []), '--set', `stages.count.workers=${workers}`, '--set', `store.actors=${actors}`, '--set', `store.data=${data}`, '--set', `export.arpa=${path.join(tmp, 'bench.arpa')}`],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  const wallMs = performance.now() - t0;
  fs.rmSync(data, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`pipeline run (${workers} workers, ${actors} actors) exited ${r.status}:\n${r.stderr}`);
  return { wallMs, summary: JSON.parse(r.stdout) as Summary };
}

function runLmplz(): number | null {
  if (!fs.existsSync(lmplz) || corpus === null) return null;
  const t0 = performance.now();
  const r = spawnSync(lmplz, ['-o', String(order), '-S', '256M', ...(discountFallback ? ['--discount_fallback'] : []), '--text', corpus, '--arpa', path.join(tmp, 'lmplz.arpa')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`lmplz exited ${r.status}:\n${r.stderr}`);
  return performance.now() - t0;
}

console.log(`dbslm pipeline run ${path.basename(yaml)} (order ${order}, ${definition.inputs.map((i) => i.written).join(', ')}${repeat > 1 ? ` x${repeat}` : ''}) per shape, fresh store each time; ${os.cpus().length} cores${quick ? ' (BENCH_QUICK: 2 workers x 3 actors only)' : ''}`);
const table = new Table({
  style: { head: [], border: [] }, // plain text: the output is read in logs
  head: ['count workers', 'store actors', 'wall s', 'words/s', 'count s', `smooth s (vocab/adjust/interpolate 1..${order}, with the Top-K heads of their contexts/top-k codes)`, 'export s', 'peak RSS MB: coordinator / read / split / count / stores', 'lmplz s', 'ratio', 'failed runs'],
});
const lmplzTimes: number[] = [];
shapes.forEach(({ workers, actors }, i) => {
  const { wallMs, summary, failures } = runPipelineRetrying(workers, actors, i);
  for (const f of failures) console.log(`${workers} workers x ${actors} actors: a failed run, tried again: ${f}`);
  const lmplzMs = runLmplz(); // alternating: the same machine state for both
  if (lmplzMs !== null) lmplzTimes.push(lmplzMs);
  const stage = (name: string) => summary.counting.stages.find((st) => st.name === name)?.maxRssKb;
  const smoothPhases = Object.values(summary.smooth.phaseMs).map((ms) => s(ms)).join('/');
  table.push([
    workers,
    actors,
    s(wallMs),
    Math.round(summary.counting.words / (wallMs / 1000)).toLocaleString('en'),
    s(summary.counting.elapsedMs),
    `${s(summary.phaseMs.smooth)} (${smoothPhases})`,
    s(summary.phaseMs.export),
    `${mb(summary.coordinatorRssKb)} / ${mb(stage('read'))} / ${mb(stage('split'))} / ${mb(stage('count'))} / ${summary.storeRss.map((st) => mb(st.kb)).join(', ')}`,
    lmplzMs === null ? '-' : s(lmplzMs),
    lmplzMs === null ? '-' : `${(wallMs / lmplzMs).toFixed(1)}x`,
    failures.length,
  ]);
});
console.log(table.toString());
if (lmplzTimes.length === 0) console.log(corpus === null ? 'lmplz reads one text file and this pipeline has other inputs: no KenLM figures.' : `${lmplz} is absent: no KenLM figures.`);
else console.log(`lmplz -o ${order} -S 256M: median ${s(lmplzTimes.sort((a, b) => a - b)[Math.floor(lmplzTimes.length / 2)])} s over ${lmplzTimes.length} runs; ratio = pipeline wall / lmplz wall of the same round.`);
console.log('peak RSS of a stage is its largest worker\'s; words/s is end to end (count, smoothing and export).');
fs.rmSync(tmp, { recursive: true, force: true });
