// `node dist/bench/store_model.js [ARPA]`: how long a model takes into and out of the store, with 1
// and then 3 actors (forks spread by `store rebalance`): `store import`, loading it back (read +
// assemble, in this process), `export`, and `ppl --connect` beside `ppl --arpa`. The commands run
// as a user runs them (the CLI as child processes). Default model: KenLM's KJV order 5 in
// ../shared. Figures only, no assertions.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { StoreClient } from '../store/client/client.js';
import { readModel } from '../store/model/read_model.js';
import { startActor, stopAll } from './actor_procs.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const ARPA = process.argv[2] ?? path.join(ROOT, '..', 'shared', 'reference', 'kenlm', 'kjv5.arpa.gz');
const TEST = path.join(ROOT, '..', 'shared', 'corpora', 'kjv.test.txt');
const run = promisify(execFile);

async function timed(what: string, args: string[]): Promise<number> {
  const t0 = performance.now();
  await run(process.execPath, [CLI, ...args], { maxBuffer: 1 << 26 });
  const s = (performance.now() - t0) / 1000;
  console.log(`  ${what}: ${s.toFixed(1)} s`);
  return s;
}

async function measure(actors: number): Promise<void> {
  const first = await startActor(`bm${actors}-1`);
  for (let i = 2; i <= actors; i++) await startActor(`bm${actors}-${i}`, { join: [first] });
  if (actors > 1) {
    await new Promise((r) => setTimeout(r, 2000)); // the joiners become alive members
    await run(process.execPath, [CLI, 'store', 'rebalance', '--apply', '--connect', first], { maxBuffer: 1 << 24 });
  }
  console.log(`${actors} actor(s):`);
  await timed('store import', ['store', 'import', '--arpa', ARPA, '--model', 'bench', '--connect', first, '--quiet']);
  const client = await StoreClient.connect(first, { timeoutMs: 30000 });
  const t0 = performance.now();
  let read = 0;
  const { lm } = await readModel(client, 'bench', { where: first, onPhase: (p) => p.startsWith('assembling') && (read = performance.now()) });
  const t1 = performance.now();
  client.close();
  console.log(`  load (in process): ${((t1 - t0) / 1000).toFixed(1)} s (read ${((read - t0) / 1000).toFixed(1)} s, assemble ${((t1 - read) / 1000).toFixed(1)} s), ${lm.trie.size - 1} nodes`);
  const out = path.join(os.tmpdir(), `dbslm-bench-export-${process.pid}.arpa`);
  await timed('export', ['export', '--connect', first, '--model', 'bench', '--arpa', out, '--quiet']);
  fs.rmSync(out, { force: true });
  if (fs.existsSync(TEST)) await timed('ppl --connect', ['ppl', '--connect', first, '--model', 'bench', TEST]);
  stopAll();
}

if (fs.existsSync(TEST)) await timed('ppl --arpa (for comparison)', ['ppl', '--arpa', ARPA, TEST]);
await measure(1);
await measure(3);
