// Top-K heads in the store (store/model/topk/), with real actor processes: the heads the store
// builds (after smoothing counted text, as the pipeline's materialise step does, and after
// `store import` of an ARPA) equal buildTopK's in-process heads of the same model, entry by entry:
// the same words in the same order, the same codes, the same codebook; with one actor and with a
// 3-actor cluster (built after smoothing; an import runs the same passes), and a pruned ARPA
// (contexts whose suffix has no followers of its own) imports with heads. KenLM's kjv3 imported
// with heads, and `topk --connect` against `topk --arpa`, are in store_model_kenlm.test.ts, which
// imports that model anyway.
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadLanguageModel } from '../cli/io/load_model.js';
import { buildTopK } from '../model/topk.js';
import type { StoreClient } from '../store/client/client.js';
import { StoreClient as Client } from '../store/client/client.js';
import { readModel } from '../store/model/read_model.js';
import { smoothModel } from '../store/model/smooth/smooth_model.js';
import { balancedTrio } from './helpers/cluster_procs.js';
import { BUNDLED_TRAIN, CLI, HAS_SHARED, SHARED, SHARED_SKIP_NOTE } from './helpers/paths.js';
import { acceptDir, runPipeline, writePipeline } from './helpers/pipeline_runs.js';
import { countText } from './helpers/stat_counting.js';
import { assertSameHeads, storedHeads } from './helpers/store_heads.js';
import { spawnActor } from './helpers/store_procs.js';

const run = promisify(execFile);
const dbslm = async (...args: string[]) => (await run(process.execPath, [CLI, ...args], { timeout: 600000, maxBuffer: 1 << 26 })).stdout;
const TEXT = fs.readFileSync(BUNDLED_TRAIN, 'utf8');
const PRUNED5 = path.join(SHARED, 'reference', 'kenlm', 'kjv5.prune01111.arpa.gz');

async function smoothWithHeads(t: ExecutionContext, client: StoreClient, model: string, order: number, k: number, bits: number): Promise<void> {
  await countText(client, model, order, TEXT);
  const result = await smoothModel(client, { model, order, tokenizer: 'whitespace', discountFallback: false, source: `test:${model}`, topk: { k, bits } });
  t.log(`${model}: ${Object.entries(result.phaseMs).map(([p, ms]) => `${p} ${ms.toFixed(0)}`).join(', ')}`);
  t.true(Object.keys(result.phaseMs).includes('top-k codes'), 'the heads have their phase times');
  const { lm } = await readModel(client, model, { where: 'test' });
  await assertSameHeads(t, client, model, lm, k, bits);
}

test.serial('one actor: heads built after smoothing equal the in-process heads (8-bit and 12-bit codes)', async (t) => {
  t.timeout(600000);
  const actor = await spawnActor(t, 'topk-one');
  const client = await Client.connect(actor.ep);
  t.teardown(() => client.close());
  await smoothWithHeads(t, client, 'sample3', 3, 32, 8);
  await smoothWithHeads(t, client, 'sample4', 4, 5, 12);
});

test.serial('three actors: heads built after smoothing equal the in-process heads', async (t) => {
  t.timeout(900000);
  const { client } = await balancedTrio(t);
  await smoothWithHeads(t, client, 'sample3', 3, 32, 8);
});

test.serial('the pipeline writes the heads of its materialise stage (K and bits from the YAML), equal to the in-process heads', async (t) => {
  t.timeout(900000);
  const dir = acceptDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const actor = await spawnActor(t, 'topk-pipeline');
  const yaml = writePipeline(dir, 'heads', [BUNDLED_TRAIN], ['stages:', '  materialise: { k: 12, bits: 10 }', 'store:', `  join: [${JSON.stringify(actor.ep)}]`]);
  const { summary } = await runPipeline(yaml, [], 600000);
  const { phaseMs } = summary as unknown as { phaseMs: Record<string, number> };
  t.log(`pipeline: smoothed (heads included) in ${Math.round(phaseMs.smooth ?? 0)} ms`);
  const client = await Client.connect(actor.ep);
  t.teardown(() => client.close());
  const { lm } = await readModel(client, 'heads', { where: 'test' });
  await assertSameHeads(t, client, 'heads', lm, 12, 10);
});

if (!HAS_SHARED) {
  test.skip(`KenLM models imported with heads, topk --connect: ${SHARED_SKIP_NOTE}`, () => {});
} else {
  // One actor: the three-actor build is the smoothing test's above (the passes are the same).
  test.serial('a pruned KenLM order-5 ARPA imports with heads, and topk --connect reads them', async (t) => {
    t.timeout(900000);
    const actor = await spawnActor(t, 'topk-pruned');
    await dbslm('store', 'import', '--arpa', PRUNED5, '--model', 'pruned', '--connect', actor.ep, '--quiet', '--topk-k', '8');
    const client = await Client.connect(actor.ep);
    t.teardown(() => client.close());
    const { meta } = await readModel(client, 'pruned', { where: 'test' });
    t.is(meta.topk?.k, 8);
    const lm = loadLanguageModel(PRUNED5);
    const want = buildTopK(lm, 8, 8);
    const heads = await storedHeads(client, 'pruned', 8);
    // Contexts stored only as prefixes of longer n-grams have a row in-process (built from their
    // suffix) but no followers in the store, so the counts may differ; every store head is one
    // buildTopK has.
    let differ = 0;
    for (const [ctx, head] of heads) {
      const node = lm.trie.findPath(ctx ? ctx.split(' ').map(Number) : []);
      const row = node >= 0 ? want.rowOf[node]! : -1;
      if (row < 0 || head.words.join() !== Array.from(want.words.subarray(row * 8, row * 8 + head.words.length)).join()) differ++;
    }
    t.log(`pruned kjv5: ${heads.size} heads in the store, ${want.rows} in-process; ${differ} store heads differ from in-process`);
    const out = await dbslm('topk', '--connect', actor.ep, '--model', 'pruned', '--context', 'the LORD', '--k', '8');
    t.regex(out, /^context: "the LORD"\nrank\tword\tlog10 p\tquantized\n1\t/);
  });
}

