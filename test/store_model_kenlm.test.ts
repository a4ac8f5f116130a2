// KenLM's order-3 KJV model through the store, with real actors: imported into one actor and into a
// 3-actor cluster, exported with the same header and, section by section, the same lines as
// KenLM wrote them (canonical order, the same file whatever the number of actors), and scored by
// `ppl --connect` exactly as `ppl --arpa` scores it. Imported into one actor with Top-K heads, the
// heads equal buildTopK's in-process heads of the model, and `topk --connect` prints what
// `topk --arpa` prints (the 3-actor import skips heads: store_model_topk.test.ts builds them on three).
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { StoreClient } from '../store/client/client.js';
import { loadLanguageModel } from '../cli/io/load_model.js';
import { assertCanonical, assertSameLines, readArpaSections } from './helpers/arpa_compare.js';
import { balancedTrio } from './helpers/cluster_procs.js';
import { CLI, HAS_SHARED, SHARED, SHARED_SKIP_NOTE } from './helpers/paths.js';
import { assertSameHeads } from './helpers/store_heads.js';
import { spawnActor, tmpDir } from './helpers/store_procs.js';

const run = promisify(execFile);
const dbslm = async (...args: string[]) => (await run(process.execPath, [CLI, ...args], { timeout: 600000, maxBuffer: 1 << 26 })).stdout;
const KJV3 = path.join(SHARED, 'reference', 'kenlm', 'kjv3.arpa.gz');
const TEST_TEXT = path.join(SHARED, 'corpora', 'kjv.test.txt');
const dir = tmpDir();

/** Import, export, compare with KenLM's file, and score through `connect`s; returns the export's path. */
async function roundTrip(t: import('ava').ExecutionContext, importVia: string, readVia: string, name: string, withHeads = false): Promise<string> {
  const imported = await dbslm('store', 'import', ...(withHeads ? [] : ['--no-topk']), '--arpa', KJV3, '--model', 'kjv3', '--connect', importVia, '--quiet');
  t.regex(imported, /^imported model=kjv3 version=\d+ order=3 ngrams=13377\/141868\/388825 words=13377$/m);
  const out = path.join(dir, `${name}.arpa`);
  await dbslm('export', '--connect', readVia, '--model', 'kjv3', '--arpa', out, '--quiet');
  const kenlm = readArpaSections(KJV3);
  const exported = readArpaSections(out);
  assertSameLines(t, exported, kenlm);
  assertCanonical(t, exported, kenlm.sections[0]!.map((l) => l.split('\t')[1]!));
  const fromStore = await dbslm('ppl', '--connect', readVia, '--model', 'kjv3', '--per-sentence', TEST_TEXT);
  const fromFile = await dbslm('ppl', '--arpa', KJV3, '--per-sentence', TEST_TEXT);
  t.is(fromStore, fromFile, 'ppl --connect prints what ppl --arpa prints');
  t.regex(fromStore, /Perplexity including OOVs:\t110\.2468/);
  return out;
}

if (!HAS_SHARED) {
  test.skip(`KenLM kjv3 through one actor and a 3-actor cluster: ${SHARED_SKIP_NOTE}`, () => {});
} else {
  let oneActorExport: string | undefined;

  test.serial("KenLM's kjv3 through one actor: export has KenLM's lines, ppl --connect equals ppl --arpa, the heads equal the in-process ones, topk --connect equals topk --arpa", async (t) => {
    t.timeout(900000);
    const actor = await spawnActor(t, 'kenlm-one');
    oneActorExport = await roundTrip(t, actor.ep, actor.ep, 'one', true);
    const client = await StoreClient.connect(actor.ep);
    t.teardown(() => client.close());
    await assertSameHeads(t, client, 'kjv3', loadLanguageModel(KJV3), 32, 8);
    // A sentence start, an unknown word, and a history longer than the order (read as its stored
    // last two words). Three, not more: each `topk --arpa` loads the model and builds every head
    // (3.6 s of CPU). The stored K (32) in both: the codebook is trained on the heads of that K.
    for (const context of ['<s>', 'unknownword', '<s> In the beginning God']) {
      const fromStore = await dbslm('topk', '--connect', actor.ep, '--model', 'kjv3', '--context', context, '--k', '32');
      const fromFile = await dbslm('topk', '--arpa', KJV3, '--context', context, '--k', '32');
      t.is(fromStore, fromFile, `--context "${context}"`);
    }
  });

  test.serial("KenLM's kjv3 through a 3-actor cluster: the same, and the same export file as from one actor", async (t) => {
    t.timeout(600000);
    // An empty store is balanced by fork counts: each member gets about a third of the forks.
    const { a, b, c, client } = await balancedTrio(t);

    const out = await roundTrip(t, b.ep, c.ep, 'three');
    const keysPerActor = await Promise.all([a, b, c].map(async (m) => ((await client.call(m.ep, 'stats', {})) as { forks: { keys: number }[] }).forks.reduce((s, f) => s + f.keys, 0)));
    t.true(keysPerActor.every((n) => n > 100000), `keys per actor: ${keysPerActor.join(', ')}`);
    if (oneActorExport) t.true(fs.readFileSync(out).equals(fs.readFileSync(oneActorExport)), 'the export is the same file from one actor and from three');
  });
}
