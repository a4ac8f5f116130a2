// Top-K heads as the store holds them (store/model/topk/), read back and compared with buildTopK's
// in-process heads of the same model: store_model_topk.test.ts and store_model_kenlm.test.ts.
import type { ExecutionContext } from 'ava';
import type { LanguageModel } from '../../model/language_model.js';
import { buildTopK } from '../../model/topk.js';
import type { StoreClient } from '../../store/client/client.js';
import { decodeTopkHead, modelNamespace, topkContextOfKey } from '../../store/model/layout.js';
import { scanNamespace } from '../../store/model/namespace_scan.js';
import { readModel } from '../../store/model/read_model.js';

/** Every head of `model` in the store, by its context's ids joined with spaces. */
export async function storedHeads(client: StoreClient, model: string, bits: number): Promise<Map<string, { words: number[]; codes: number[] }>> {
  const ns = modelNamespace(model, 'topk');
  const nsBytes = Buffer.byteLength(ns, 'utf8');
  const heads = new Map<string, { words: number[]; codes: number[] }>();
  await scanNamespace(client, ns, (keys, values) => {
    keys.forEach((key, i) => heads.set(topkContextOfKey(key, nsBytes).join(' '), decodeTopkHead(values[i] as Buffer, bits)));
  });
  return heads;
}

/** The store's heads of `model` equal buildTopK's for `lm` (the model as the store holds it): every row, word and code, and the codebook. */
export async function assertSameHeads(t: ExecutionContext, client: StoreClient, model: string, lm: LanguageModel, k: number, bits: number): Promise<void> {
  const started = performance.now();
  const want = buildTopK(lm, k, bits);
  const inProcessMs = performance.now() - started;
  const { meta } = await readModel(client, model, { where: 'test' });
  t.truthy(meta.topk, 'the meta has its Top-K record');
  t.is(meta.topk!.k, k);
  t.is(meta.topk!.bits, bits);
  t.deepEqual(meta.topk!.centers, Array.from(want.codebook.centers), 'the same codebook');
  const heads = await storedHeads(client, model, bits);
  t.is(heads.size, want.rows, 'a head per context with followers');
  t.is(meta.topk!.rows, want.rows);
  let entries = 0;
  let mismatched = 0;
  for (let node = 0; node < lm.trie.size; node++) {
    const row = want.rowOf[node]!;
    if (row < 0) continue;
    const words: number[] = [];
    const codes: number[] = [];
    for (let i = 0; i < k && want.words[row * k + i]! >= 0; i++) {
      words.push(want.words[row * k + i]!);
      codes.push(want.codes[row * k + i]!);
    }
    entries += words.length;
    const got = heads.get(lm.trie.path(node).join(' '));
    if (!got || got.words.join() !== words.join() || got.codes.join() !== codes.join()) {
      if (mismatched++ < 3) t.fail(`context ${lm.trie.path(node).map((w) => lm.vocab.word(w)).join(' ') || '(empty)'}: store ${JSON.stringify(got)}, in-process ${JSON.stringify({ words, codes })}`);
    }
  }
  t.is(mismatched, 0, 'every head equal');
  t.is(meta.topk!.entries, entries);
  t.log(`${model}: ${want.rows} heads, ${entries} entries, ${want.codebook.centers.length} centers; in-process buildTopK ${inProcessMs.toFixed(0)} ms`);
}
