// Writing a whole LanguageModel into the store in the model layout (layout.ts): what `dbslm store
// import` does with an ARPA file. The meta key goes first, marked incomplete, and is rewritten
// complete only after the last n-gram is acknowledged, so a crash never leaves a model that reads
// as whole; a model already there is kept unless the caller asks to replace it. With `topk`, the
// Top-K heads are built from the written n-grams inside the store actors, by the same passes as
// the pipeline's materialise step (topk/materialise_topk.ts), before the meta is complete.
import { entryCounts, type LanguageModel } from '../../model/language_model.js';
import { indexChildren } from '../../model/children.js';
import type { ModelMeta, OrderDiscounts } from '../../schemas/model_meta.js';
import type { StoreClient } from '../client/client.js';
import { ForkBatchWriter } from './fork_batches.js';
import { parseKey } from '../protocol/keys.js';
import { contextPrefix, encodeNgramValue, encodeWordId, MODEL_LAYOUT, modelNamespace, NgramKeyReader, ngramKeyAt, vocabIdOfKey, vocabKey, wordKey, type ModelKind } from './layout.js';
import { deleteModelKeys } from './model_delete.js';
import { readModelMeta, writeModelMeta } from './stored_meta.js';
import { materialiseTopK, type TopKOptions } from './topk/materialise_topk.js';

export interface WriteModelOptions {
  model: string;
  /** Delete a model of the same name first; without it such a model is an error. */
  replace: boolean;
  tokenizer: string;
  /** Where the model came from (kept in the meta). */
  source: string;
  discounts?: OrderDiscounts[];
  /** The store as the user named it, for messages. */
  where: string;
  onPhase?: (phase: string) => void;
  /** Keys written so far of all the model's keys. */
  onProgress?: (done: number, total: number) => void;
  /** Build the Top-K heads with this K and bits (the store's actors must serve the Top-K jobs: `dbslm store start`). */
  topk?: TopKOptions;
}

/** A model of this name is already in the store and replacing it was not asked for. */
export class ModelExistsError extends Error {
  constructor(model: string, where: string, old: ModelMeta) {
    const what = old.complete ? `version ${old.version}, order ${old.order}, from ${old.source || 'an unknown source'}` : `left incomplete by an import of version ${old.version} that did not finish`;
    super(`model "${model}" is already in the store at ${where} (${what}); import with --replace to delete it and import anew, or choose another --model name`);
  }
}

/** Larger than the last version and, across deletions of the model, than any earlier one (clock-based). */
function nextVersion(old: ModelMeta | undefined): number {
  return Math.max((old?.version ?? 0) + 1, Date.now());
}

/** Whether `lm`, written as `model`, writes the key `key` of `kind` (so an old value there needs no delete). */
function rewrittenBy(lm: LanguageModel, model: string): (kind: ModelKind, key: Buffer) => boolean {
  const reader = new NgramKeyReader(Buffer.byteLength(modelNamespace(model, 'p'), 'utf8'));
  const ids = new Uint32Array(lm.order);
  return (kind, key) => {
    if (kind === 'vocab') return vocabIdOfKey(key) < lm.vocab.size;
    if (kind === 'word') return lm.vocab.has(Buffer.from(parseKey(key).prefix).toString('utf8'));
    if (kind !== 'p') return false;
    const k = reader.orderOf(key);
    if (k > lm.order) return false;
    reader.idsOf(key, k, ids, 0);
    const node = lm.trie.findPath(ids.subarray(0, k));
    return node >= 0 && !Number.isNaN(lm.logProb[node]!);
  };
}

/** Writes `lm` as model `opts.model`; resolves with the meta it wrote. */
export async function writeModel(client: StoreClient, lm: LanguageModel, opts: WriteModelOptions): Promise<ModelMeta> {
  const { model } = opts;
  const old = await readModelMeta(client, model);
  if (old && !opts.replace) throw new ModelExistsError(model, opts.where, old);
  const counts = entryCounts(lm).slice(1);
  const meta: ModelMeta = {
    layout: MODEL_LAYOUT,
    complete: false,
    version: nextVersion(old),
    order: lm.order,
    tokenizer: opts.tokenizer,
    vocabSize: lm.vocab.size,
    counts,
    discounts: opts.discounts ?? [],
    source: opts.source,
    writtenMs: Date.now(),
    topk: null,
  };
  await writeModelMeta(client, model, meta);
  if (old) {
    opts.onPhase?.(`deleting the old model ${model}`);
    await deleteModelKeys(client, model, { keep: rewrittenBy(lm, model) });
  }

  opts.onPhase?.(`writing model ${model}`);
  const total = 2 * lm.vocab.size + counts.reduce((a, b) => a + b, 0);
  const writer = new ForkBatchWriter(client, { onWritten: (n) => opts.onProgress?.(n, total) });
  const words = lm.vocab.words;
  for (let id = 0; id < words.length; id++) {
    writer.set(vocabKey(model, id), Buffer.from(words[id]!, 'utf8'));
    writer.set(wordKey(model, words[id]!), encodeWordId(id));
    if ((id & 511) === 511) await writer.ready();
  }
  // Context by context: one routing prefix (hash) per context, not per n-gram.
  const { trie, logProb, backoff } = lm;
  const { start, nodes } = indexChildren(trie);
  let sinceReady = 0;
  for (let h = 0; h < trie.size; h++) {
    if (start[h + 1] === start[h]) continue;
    let head: Buffer | undefined;
    for (let i = start[h]!; i < start[h + 1]!; i++) {
      const n = nodes[i]!;
      if (Number.isNaN(logProb[n]!)) continue; // a context stored only as a prefix
      head ??= contextPrefix(model, trie.path(h));
      writer.set(ngramKeyAt(head, trie.word[n]!), encodeNgramValue(logProb[n]!, backoff[n]!));
      if (++sinceReady === 1024) {
        sinceReady = 0;
        await writer.ready();
      }
    }
  }
  await writer.finish();
  if (opts.topk) {
    const topk = opts.topk;
    meta.topk = await materialiseTopK(client, model, lm.order, topk, (phase, work) => {
      opts.onPhase?.(`${phase} of model ${model}`);
      return work();
    });
  }
  meta.complete = true;
  await writeModelMeta(client, model, meta);
  return meta;
}
