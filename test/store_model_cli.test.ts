// The model in the store through the real CLI and a real actor, on a model of the bundled corpus
// (runs without ../shared): `store import`, `export`, `ppl --connect`, replacing a model, and
// the errors for a missing, half-written or already present model. Imports skip the Top-K heads
// (--no-topk: 3.8 s of their 5 s) except the one a --replace replaces; store_model_topk and
// store_model_kenlm test the heads.
import test from 'ava';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { StoreClient } from '../store/client/client.js';
import { modelNamespace } from '../store/model/layout.js';
import { scanNamespace } from '../store/model/namespace_scan.js';
import { readModelMeta, writeModelMeta } from '../store/model/stored_meta.js';
import { assertCanonical, assertSameLines, readArpaSections } from './helpers/arpa_compare.js';
import { BUNDLED_TEST, BUNDLED_TRAIN, CLI } from './helpers/paths.js';
import { spawnActor, tmpDir } from './helpers/store_procs.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
function dbslm(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 120000, maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}
async function ok(...args: string[]): Promise<string> {
  const r = await dbslm(...args);
  if (r.code !== 0) throw new Error(`dbslm ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const dir = tmpDir();
const m3 = path.join(dir, 'sample3.arpa');
const m2 = path.join(dir, 'sample2.arpa');
const built = Promise.all([ok('build', '--order', '3', '--arpa', m3, BUNDLED_TRAIN), ok('build', '--order', '2', '--arpa', m2, BUNDLED_TRAIN)]);

async function keysOf(client: StoreClient, model: string, kind: 'p' | 'vocab' | 'word'): Promise<number> {
  let n = 0;
  await scanNamespace(client, modelNamespace(model, kind), (keys) => (n += keys.length), { keysOnly: true });
  return n;
}

test('import, export and ppl --connect reproduce the ARPA model: same lines, canonical order, same scores', async (t) => {
  await built;
  const actor = await spawnActor(t, 'lm-one');
  const imported = await ok('store', 'import', '--no-topk', '--arpa', m3, '--model', 'sample', '--connect', actor.ep, '--quiet');
  const original = readArpaSections(m3);
  const counts = original.sections.map((s) => s.length);
  t.regex(imported, new RegExp(`^imported model=sample version=\\d+ order=3 ngrams=${counts.join('/')} words=${counts[0]}\\n$`));

  const out = path.join(dir, 'export3.arpa');
  await ok('export', '--connect', actor.ep, '--model', 'sample', '--arpa', out, '--quiet');
  const exported = readArpaSections(out);
  assertSameLines(t, exported, original);
  assertCanonical(t, exported, original.sections[0]!.map((l) => l.split('\t')[1]!));

  for (const extra of [[], ['--per-sentence']]) {
    const fromStore = await ok('ppl', '--connect', actor.ep, '--model', 'sample', ...extra, BUNDLED_TEST);
    const fromFile = await ok('ppl', '--arpa', m3, ...extra, BUNDLED_TEST);
    t.is(fromStore, fromFile, `ppl ${extra.join(' ')}`);
    t.regex(fromStore, /^Perplexity including OOVs:\t\d/m);
  }

  const client = await StoreClient.connect(actor.ep);
  t.teardown(() => client.close());
  t.is(await keysOf(client, 'sample', 'p'), counts.reduce((a, b) => a + b, 0), 'one key per n-gram');
  t.is(await keysOf(client, 'sample', 'word'), counts[0]!, 'one word key per vocabulary entry');
});

test('--replace: refused without it, with it the old model is gone and the version grows', async (t) => {
  await built;
  const actor = await spawnActor(t, 'lm-replace');
  const client = await StoreClient.connect(actor.ep);
  t.teardown(() => client.close());
  await ok('store', 'import', '--arpa', m3, '--model', 'kjv', '--connect', actor.ep, '--quiet');
  // A model whose namespaces share kjv's prefix (kjv.v2.p against kjv.p): replacing kjv leaves it.
  await ok('store', 'import', '--no-topk', '--arpa', m3, '--model', 'kjv.v2', '--connect', actor.ep, '--quiet');
  const first = (await readModelMeta(client, 'kjv'))!;
  t.true(first.complete);
  t.is(first.order, 3);

  const again = await dbslm('store', 'import', '--no-topk', '--arpa', m2, '--model', 'kjv', '--connect', actor.ep, '--quiet');
  t.is(again.code, 1);
  t.regex(again.stderr, new RegExp(`model "kjv" is already in the store at ${actor.ep} \\(version ${first.version}, order 3, from arpa:${m3.replace(/[.]/g, '\\.')}\\); import with --replace`));
  t.is((await readModelMeta(client, 'kjv'))!.version, first.version, 'a refused import changes nothing');

  await ok('store', 'import', '--no-topk', '--arpa', m2, '--model', 'kjv', '--replace', '--connect', actor.ep, '--quiet');
  const second = (await readModelMeta(client, 'kjv'))!;
  t.true(second.version > first.version, `version ${second.version} after ${first.version}`);
  t.is(second.order, 2);
  const original = readArpaSections(m2);
  t.is(await keysOf(client, 'kjv', 'p'), original.sections[0]!.length + original.sections[1]!.length, 'no 3-gram of the old model is left');
  const out = path.join(dir, 'export2.arpa');
  await ok('export', '--connect', actor.ep, '--model', 'kjv', '--arpa', out, '--quiet');
  assertSameLines(t, readArpaSections(out), original);
  const other = path.join(dir, 'export-v2.arpa');
  await ok('export', '--connect', actor.ep, '--model', 'kjv.v2', '--arpa', other, '--quiet');
  assertSameLines(t, readArpaSections(other), readArpaSections(m3));
});

test('a missing model, a half-written one and an unreachable store are clear errors', async (t) => {
  await built;
  const actor = await spawnActor(t, 'lm-errors');
  const missing = await dbslm('ppl', '--connect', actor.ep, '--model', 'nothing', BUNDLED_TEST);
  t.is(missing.code, 1);
  t.regex(missing.stderr, new RegExp(`^dbslm ppl: error: no model "nothing" in the store at ${actor.ep} \\(no key nothing\\.meta:\\); import one with`));
  const exportMissing = await dbslm('export', '--connect', actor.ep, '--arpa', path.join(dir, 'never.arpa'));
  t.is(exportMissing.code, 1);
  t.regex(exportMissing.stderr, new RegExp(`no model "default" in the store at ${actor.ep}`));

  // An import that stopped half-way leaves its meta marked incomplete.
  await ok('store', 'import', '--no-topk', '--arpa', m2, '--connect', actor.ep, '--quiet');
  const client = await StoreClient.connect(actor.ep);
  t.teardown(() => client.close());
  const meta = (await readModelMeta(client, 'default'))!;
  await writeModelMeta(client, 'default', { ...meta, complete: false });
  const half = await dbslm('ppl', '--connect', actor.ep, BUNDLED_TEST);
  t.is(half.code, 1);
  t.regex(half.stderr, new RegExp(`model "default" in the store at ${actor.ep} is incomplete: writing version ${meta.version} .* did not finish; import it again with --replace`));
  const over = await dbslm('store', 'import', '--no-topk', '--arpa', m2, '--connect', actor.ep, '--quiet');
  t.regex(over.stderr, /left incomplete by an import of version \d+ that did not finish\); import with --replace/);
  await ok('store', 'import', '--no-topk', '--arpa', m2, '--replace', '--connect', actor.ep, '--quiet');
  t.is(await ok('ppl', '--connect', actor.ep, BUNDLED_TEST), await ok('ppl', '--arpa', m2, BUNDLED_TEST));

  const nobody = await dbslm('ppl', '--connect', 'tcp://127.0.0.1:9', '--timeout', '300', BUNDLED_TEST);
  t.is(nobody.code, 1);
  t.regex(nobody.stderr, /no store answers at tcp:\/\/127\.0\.0\.1:9/);
  const both = await dbslm('ppl', '--connect', actor.ep, '--arpa', m2, BUNDLED_TEST);
  t.not(both.code, 0);
  t.regex(both.stderr, /mutually exclusive|conflict/i);
  const badName = await dbslm('export', '--connect', actor.ep, '--model', 'a b', '--arpa', path.join(dir, 'never.arpa'));
  t.is(badName.code, 1);
  t.regex(badName.stderr, /^dbslm export: error: model name "a b" is not valid\n  hint: use letters, digits/);
  const neither = await dbslm('ppl', BUNDLED_TEST);
  t.regex(neither.stderr, /Name the model: --model FILE, or --connect ENDPOINT/);
});
