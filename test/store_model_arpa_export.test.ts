// The streamed ARPA export (store/model/arpa_export.ts through cli/io/store_arpa.ts), with real
// actor processes: buildModel's order-4 model of the bundled KJV sample written into one actor and
// into a 3-actor cluster (float64 values, as smoothing leaves them) is exported byte for byte as
// the in-process model's ARPA with each section's lines put in canonical order (sorted here, by
// word-id tuple), and as the ARPA of the model readModel assembles (the export before streaming).
// Also when the memory bound is tiny, so the records go through sorted run files and a merge (the
// files are removed afterwards); and for a model without <unk>, which gets KenLM's -100 line.
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { UNK } from '../model/vocab.js';
import { writeStoreArpa } from '../cli/io/store_arpa.js';
import { StoreClient } from '../store/client/client.js';
import { ngramKey } from '../store/model/layout.js';
import { readModel } from '../store/model/read_model.js';
import { ModelNotFoundError, readModelMeta, writeModelMeta } from '../store/model/stored_meta.js';
import { writeModel } from '../store/model/write_model.js';
import { balancedTrio } from './helpers/cluster_procs.js';
import { buildFromFile } from './helpers/corpus.js';
import { arpaText } from './helpers/model_compare.js';
import { BUNDLED_TRAIN } from './helpers/paths.js';
import { spawnActor, tmpDir } from './helpers/store_procs.js';

const ORDER = 4;
const built = buildFromFile(BUNDLED_TRAIN, ORDER);
const dir = tmpDir();
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));

/** An ARPA text with each section's lines sorted by word-id tuple (ids: the model's vocabulary). */
function canonical(arpa: string, ids: Map<string, number>): string {
  const parts = arpa.split(/(\n\\\d+-grams:\n)/);
  for (let i = 2; i < parts.length; i += 2) {
    let body = parts[i]!;
    const tail = i === parts.length - 1 ? body.slice(body.indexOf('\n\n\\end\\')) : '\n';
    body = body.slice(0, body.length - tail.length);
    const tuple = (line: string) => line.split('\t')[1]!.split(' ').map((w) => ids.get(w)!);
    const lines = body.split('\n').map((line) => ({ line, key: tuple(line) }));
    lines.sort((a, b) => {
      for (let j = 0; j < a.key.length; j++) if (a.key[j] !== b.key[j]) return a.key[j]! - b.key[j]!;
      return 0;
    });
    parts[i] = lines.map((l) => l.line).join('\n') + tail;
  }
  return parts.join('');
}

const inProcess = arpaText(built.lm).toString('utf8');
const wanted = Buffer.from(canonical(inProcess, new Map(built.lm.vocab.words.map((w, i) => [w, i]))));

async function exportsAsWanted(t: ExecutionContext, client: StoreClient, where: string): Promise<void> {
  await writeModel(client, built.lm, { model: 'small', replace: true, tokenizer: 'whitespace', source: 'test', where });
  t.not(wanted.toString(), inProcess, 'the in-process file is not in canonical order already (the comparison sorts something)');
  const oldPath = arpaText((await readModel(client, 'small', { where })).lm);
  t.true(oldPath.equals(wanted), 'the model readModel assembles writes the canonical in-process ARPA');
  for (const memoryBytes of [undefined, 256 << 10]) {
    const target = path.join(dir, `${where}-${memoryBytes ?? 'default'}.arpa`);
    const started = performance.now();
    const { bytes, runs, counts } = await writeStoreArpa(client, 'small', target, { where, memoryBytes });
    t.log(`${where}, memory ${memoryBytes ?? 'default'}: ${runs} runs, ${Math.round(performance.now() - started)} ms`);
    if (memoryBytes === undefined) t.is(runs, 0, 'the default bound holds this model in memory');
    else t.true(runs >= ORDER * 4, `a tiny bound sorts in runs (${runs})`);
    const got = fs.readFileSync(target);
    t.is(bytes, got.length);
    t.deepEqual(counts.slice(1), built.counts.slice(1));
    t.true(got.equals(wanted), `the streamed export (memory ${memoryBytes ?? 'default'}) is the canonical in-process ARPA, byte for byte`);
    t.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('.runs') || f.endsWith('.tmp')), [], 'no run files or partial files left');
  }
}

test.serial('one actor: the streamed export is the in-process ARPA in canonical order, in memory and through sorted runs', async (t) => {
  t.timeout(300000);
  const actor = await spawnActor(t, 'export-one');
  const client = await StoreClient.connect(actor.ep);
  t.teardown(() => client.close());
  await exportsAsWanted(t, client, 'one');

  // A model without <unk>: KenLM's -100 line, as the assembled model has it, and a warning.
  const meta = (await readModelMeta(client, 'small'))!;
  await client.delete([ngramKey('small', [UNK])]);
  await writeModelMeta(client, 'small', { ...meta, counts: [meta.counts[0]! - 1, ...meta.counts.slice(1)] });
  const warnings: string[] = [];
  const target = path.join(dir, 'no-unk.arpa');
  await writeStoreArpa(client, 'small', target, { where: 'one', memoryBytes: 256 << 10, warn: (m) => warnings.push(m) });
  const assembled = arpaText((await readModel(client, 'small', { where: 'one' })).lm);
  t.true(fs.readFileSync(target).equals(assembled), 'the same bytes as the assembled model without <unk>');
  t.true(assembled.includes('\n-100\t<unk>\t0\n'), 'the -100 <unk> line');
  t.deepEqual(warnings, ['the model has no <unk>; unknown words get log10 p = -100, as KenLM substitutes']);

  await t.throwsAsync(writeStoreArpa(client, 'absent', path.join(dir, 'absent.arpa'), { where: 'one' }), { instanceOf: ModelNotFoundError });
  t.false(fs.existsSync(path.join(dir, 'absent.arpa')));
});

test.serial('three actors: the same bytes', async (t) => {
  t.timeout(600000);
  const { client } = await balancedTrio(t);
  await exportsAsWanted(t, client, 'three');
});
