// `npm run bench:generate [ARPA]`: generation speed from a model file and from the same model
// imported into a store of 1 and then 3 actors on loopback (forks spread by `store rebalance`).
// For each: tokens/s, per-token latency p50/p99 (time between words of a stream), and store reads
// per token (context ranges fetched, all lengths of a history at once; a backoff comes with its prefix's range)
// and sequential round trips per token, and CPU ms per token of this process and of the actors
// (every thread: ZeroMQ's I/O threads included), for exact sampling without and with Level 3 (concept spans
// verified speculatively) and for a controlled run (top-p 0.9, temperature 0.8). The first pass starts
// with an empty cache (a fresh engine); seeds differ per sample. Each is then run cold again on another fresh
// engine with other seeds (the process's code compiled by then). Then BENCH_STREAMS (8) generations
// at once on one fresh engine, as a server sees them: tokens/s over all streams, latency per stream.
// Also the exact mixture 0.5/0.5 of the model file with the bundled corpus's order-3 model
// (generate/mixture_decoder.ts), exact and controlled, beside the file alone in the same run.
// BENCH_STORES=0 skips the stores; BENCH_STORES=1 or 3 runs only that store; BENCH_FILE=0 skips
// the file and mixture runs; BENCH_CONCEPTS=0 skips concept mining and the Level 3 runs (for
// measuring exact sampling alone, ~30 s less per store). Default model: KenLM's KJV order 5
// in ../shared (the bundled corpus's order-3 model without it). Figures only, no assertions.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Engine, type GenerateRequest } from '../generate/engine.js';
import type { StoreContextSource } from '../generate/store_source.js';
import { actorCpuMs, startActor, stopAll } from './actor_procs.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const SHARED = path.join(ROOT, '..', 'shared', 'reference', 'kenlm', 'kjv5.arpa.gz');
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 100);
const run = promisify(execFile);

/** The bundled corpus's order-3 model, its words split by `tokenizer`. */
async function bundledModel(tokenizer: string): Promise<string> {
  const out = path.join(os.tmpdir(), `dbslm-bench-generate-${process.pid}.${tokenizer}.arpa`);
  await run(process.execPath, [CLI, 'build', '--order', '3', '--tokenizer', tokenizer, '--arpa', out, path.join(ROOT, 'config', 'corpus', 'kjv.sample.txt')]);
  return out;
}

async function modelFile(): Promise<string> {
  if (process.argv[2]) return path.resolve(process.argv[2]);
  if (fs.existsSync(SHARED)) return SHARED;
  return bundledModel('regex');
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

interface Figures {
  tokens: number;
  seconds: number;
  latencies: number[];
  storeReads: number;
  rounds: number;
  /** CPU ms of this process and of the actors (user + system, every thread) over the run. */
  clientCpuMs: number;
  actorCpuMs: number;
}

/** Streams at once in the concurrent runs: a server answering that many requests together. */
const CONCURRENT = Number(process.env.BENCH_STREAMS ?? 8);

/** The SAMPLES generations, `streams` at a time (each stream's samples one after another). */
async function measure(engine: Engine, request: GenerateRequest, streams = 1, seedBase = 1000): Promise<Figures> {
  const source = (engine.source ?? {}) as Partial<StoreContextSource>;
  const readsBefore = source.stats?.storeReads ?? 0;
  const roundsBefore = engine.stats.rounds;
  const latencies: number[] = [];
  const actorCpu0 = actorCpuMs();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: streams }, async (_, stream) => {
      for (let i = stream; i < SAMPLES; i += streams) {
        let last = performance.now();
        for await (const _ of engine.stream({ ...request, seed: seedBase + i, maxTokens: 40 })) {
          const now = performance.now();
          latencies.push(now - last);
          last = now;
        }
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { tokens: latencies.length, seconds, latencies, storeReads: (source.stats?.storeReads ?? 0) - readsBefore, rounds: engine.stats.rounds - roundsBefore, clientCpuMs: (cpu.user + cpu.system) / 1000, actorCpuMs: actorCpuMs() - actorCpu0 };
}

function report(where: string, what: string, f: Figures): void {
  const reads = where === 'file' || where === 'mixture' ? '' : `, ${(f.storeReads / f.tokens).toFixed(2)} ranges read/token, ${(f.rounds / f.tokens).toFixed(2)} round trips/token, CPU ms/token ${(f.clientCpuMs / f.tokens).toFixed(3)} client ${(f.actorCpuMs / f.tokens).toFixed(3)} actors`;
  console.log(`  ${where.padEnd(9)} ${what.padEnd(34)} ${Math.round(f.tokens / f.seconds).toString().padStart(6)} tokens/s  p50 ${pct(f.latencies, 50).toFixed(3)} ms  p99 ${pct(f.latencies, 99).toFixed(3)} ms  (${f.tokens} tokens${reads})`);
}

const EXACT: GenerateRequest = {};
const LEVEL3: GenerateRequest = { concepts: true };
const CONTROLLED: GenerateRequest = { topP: 0.9, temperature: 0.8 };

const arpa = await modelFile();
console.log(`model ${arpa}; ${SAMPLES} samples of at most 40 tokens per line, a fresh engine (empty cache) for each`);
let t0 = performance.now();
const WITH_FILE = process.env.BENCH_FILE !== '0';
const WITH_CONCEPTS = process.env.BENCH_CONCEPTS !== '0';
if (WITH_FILE) {
  const fileEngine = await Engine.open({ file: arpa });
  console.log(`  file: loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  report('file', 'exact', await measure(fileEngine, EXACT));
  report('file', 'exact + Level 3', await measure(fileEngine, LEVEL3));
  report('file', 'top-p 0.9, T 0.8', await measure(fileEngine, CONTROLLED));
  // Whitespace tokens, as KenLM's KJV model has them.
  const second = await bundledModel('whitespace');
  t0 = performance.now();
  const mixEngine = await Engine.open({ files: [arpa, second], weights: [0.5, 0.5] });
  console.log(`  mixture 0.5/0.5 with ${second}: loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${mixEngine.vocab().size} words in the union`);
  report('mixture', 'exact', await measure(mixEngine, EXACT));
  report('mixture', 'top-p 0.9, T 0.8', await measure(mixEngine, CONTROLLED));
  // Warm, like the file's runs below: the components' followers are cached by now.
  report('mixture', 'exact, again', await measure(mixEngine, EXACT));
  report('mixture', 'top-p 0.9, T 0.8, again', await measure(mixEngine, CONTROLLED));
  report('file', 'exact, again', await measure(fileEngine, EXACT));
  report('file', 'top-p 0.9, T 0.8, again', await measure(fileEngine, CONTROLLED));
}
const STORES = process.env.BENCH_STORES === undefined ? [1, 3] : process.env.BENCH_STORES.split(',').filter((s) => s !== '0').map(Number);
for (const actors of STORES) {
  const first = await startActor(`gen${actors}-1`);
  for (let i = 2; i <= actors; i++) await startActor(`gen${actors}-${i}`, { join: [first] });
  if (actors > 1) {
    await new Promise((r) => setTimeout(r, 2000)); // the joiners become alive members
    await run(process.execPath, [CLI, 'store', 'rebalance', '--apply', '--connect', first], { maxBuffer: 1 << 24 });
  }
  t0 = performance.now();
  await run(process.execPath, [CLI, 'store', 'import', '--no-topk', '--arpa', arpa, '--model', 'bench', '--connect', first, '--quiet'], { maxBuffer: 1 << 24 });
  console.log(`  ${actors} actor(s): imported in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (WITH_CONCEPTS) {
    t0 = performance.now();
    await run(process.execPath, [CLI, 'concepts', 'mine', '--connect', first, '--model', 'bench', '--quiet', '--show', '0'], { maxBuffer: 1 << 24 });
    console.log(`  ${actors} actor(s): concepts mined in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const requests = WITH_CONCEPTS ? ([['exact', EXACT], ['exact + Level 3', LEVEL3], ['top-p 0.9, T 0.8', CONTROLLED]] as const) : ([['exact', EXACT], ['top-p 0.9, T 0.8', CONTROLLED]] as const);
  for (const [what, request] of requests) {
    const engine = await Engine.open({ connect: first, model: 'bench' });
    report(`${actors} actor${actors > 1 ? 's' : ''}`, `${what}, cold`, await measure(engine, request));
    report(`${actors} actor${actors > 1 ? 's' : ''}`, `${what}, warm`, await measure(engine, request));
    engine.close();
    // Cold again: a fresh engine (empty cache) and other seeds, in a process that has now run the
    // decoder and the client: the first cold run also pays for compiling them (V8's tiers), which
    // a long-running server pays once.
    const again = await Engine.open({ connect: first, model: 'bench' });
    report(`${actors} actor${actors > 1 ? 's' : ''}`, `${what}, cold, new seeds`, await measure(again, request, 1, 1_000_000));
    again.close();
  }
  // A server's view: CONCURRENT requests at once on one engine, from an empty cache; the lookups
  // the streams ask for in one turn travel together (store/client/batched_lookups.ts).
  for (const [what, request] of [['exact', EXACT], ['top-p 0.9, T 0.8', CONTROLLED]] as const) {
    const engine = await Engine.open({ connect: first, model: 'bench' });
    report(`${actors} actor${actors > 1 ? 's' : ''}`, `${what}, cold, ${CONCURRENT} streams`, await measure(engine, request, CONCURRENT));
    engine.close();
  }
  stopAll();
}
process.exit(0);
