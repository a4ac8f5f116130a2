// `node dist/bench/topk_heads.js [ARPA] [ACTORS]`: the Top-K heads phase alone, as `store import`
// runs it (topk/materialise_topk.ts), on a model already in the store: 3 actors by default (forks
// spread by `store rebalance`), the model imported with --no-topk, then the heads built and coded
// (K 32, 8 bits) with the time of each pass, and the in-process buildTopK of the same ARPA for
// scale. Default model: KenLM's KJV order 5 in ../shared. Figures only, no assertions.
// BENCH_ACTOR_NODE_ARGS passes node flags to the actors (bench/actor_procs.ts), e.g. --cpu-prof.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadLanguageModel } from '../cli/io/load_model.js';
import { buildTopK } from '../model/topk.js';
import { StoreClient } from '../store/client/client.js';
import { materialiseTopK } from '../store/model/topk/materialise_topk.js';
import { startActor, stopAll } from './actor_procs.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const ARPA = process.argv[2] ?? path.join(ROOT, '..', 'shared', 'reference', 'kenlm', 'kjv5.arpa.gz');
const ACTORS = Number(process.argv[3] ?? 3);
const run = promisify(execFile);
const s = (ms: number) => (ms / 1000).toFixed(1);

const first = await startActor('heads-1');
for (let i = 2; i <= ACTORS; i++) await startActor(`heads-${i}`, { join: [first] });
if (ACTORS > 1) {
  await new Promise((r) => setTimeout(r, 2000)); // the joiners become alive members
  await run(process.execPath, [CLI, 'store', 'rebalance', '--apply', '--connect', first], { maxBuffer: 1 << 24 });
}
await run(process.execPath, [CLI, 'store', 'import', '--arpa', ARPA, '--model', 'bench', '--no-topk', '--connect', first, '--quiet'], { maxBuffer: 1 << 26 });
const lm = loadLanguageModel(ARPA);
const client = await StoreClient.connect(first, { timeoutMs: 30000 });
const phases: Record<string, number> = {};
const t0 = performance.now();
const meta = await materialiseTopK(client, 'bench', lm.order, { k: 32, bits: 8 }, async (phase, work) => {
  const started = performance.now();
  try {
    return await work();
  } finally {
    phases[phase] = performance.now() - started;
  }
});
const storeMs = performance.now() - t0;
client.close();
stopAll();
const t1 = performance.now();
buildTopK(lm, 32, 8);
const inProcessMs = performance.now() - t1;
console.log(`${path.basename(ARPA)}, ${ACTORS} actor(s): ${meta.rows} heads, ${meta.entries} entries`);
console.log(`  store heads: ${s(storeMs)} s (${Object.entries(phases).map(([p, ms]) => `${p} ${s(ms)}`).join(', ')})`);
console.log(`  in-process buildTopK: ${s(inProcessMs)} s; ratio ${(storeMs / inProcessMs).toFixed(1)}x`);
