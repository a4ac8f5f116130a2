// Reading a whole model out of the store into a LanguageModel (ppl --connect, export, the
// generator): the meta, the vocabulary by its blocks of ids, then every n-gram with one filtered
// scan per fork, all actors at once. The model is assembled in canonical order (assemble.ts), so
// it is the same whatever the number of actors or forks.
import { arpaReadBack } from '../../model/float32_text.js';
import type { LanguageModel } from '../../model/language_model.js';
import type { ModelMeta } from '../../schemas/model_meta.js';
import type { StoreClient } from '../client/client.js';
import { assembleModel, type OrderEntries } from './assemble.js';
import { decodeNgramValue, modelNamespace, NgramKeyReader, vocabBlockOf, vocabBlockPrefix, vocabIdOfKey } from './layout.js';
import { scanNamespace } from './namespace_scan.js';
import { requireModelMeta } from './stored_meta.js';

export interface ReadModelOptions {
  /** The store as the user named it, for messages. */
  where: string;
  onPhase?: (phase: string) => void;
  /** N-grams read so far of the meta's total. */
  onProgress?: (done: number, total: number) => void;
  warn?: (message: string) => void;
  /**
   * Give each log10 p and backoff the value its ARPA text reads back as (the float32 shortest text
   * that `export` writes, parsed): so scoring the model read from the store (`ppl --connect`) prints
   * exactly what `ppl --arpa` prints for its exported ARPA. A model imported from an ARPA is
   * unchanged by it (its values already are such texts); a pipeline's float64 values are rounded.
   */
  asArpa?: boolean;
}

/** The words of ids 0 .. size - 1, a scan per block of ids, the blocks at once. */
export async function readVocab(client: StoreClient, model: string, size: number): Promise<string[]> {
  const words = new Array<string>(size);
  let found = 0;
  const blocks = size === 0 ? 0 : vocabBlockOf(size - 1) + 1;
  await Promise.all(
    Array.from({ length: blocks }, async (_, block) => {
      for await (const { key, value } of client.scan(vocabBlockPrefix(model, block), { pageSize: 4096 })) {
        const id = vocabIdOfKey(key);
        if (!(value instanceof Buffer)) throw new Error(`vocabulary id ${id} of model ${model} holds a counter, not a word`);
        if (id >= size) throw new Error(`model ${model} has vocabulary id ${id} but its meta says ${size} words`);
        if (words[id] === undefined) found++;
        words[id] = value.toString('utf8');
      }
    }),
  );
  if (found !== size) {
    const missing = words.findIndex((w) => w === undefined);
    throw new Error(`model ${model} has ${found} of its ${size} words; id ${missing < 0 ? found : missing} is missing (re-import the model with --replace)`);
  }
  return words;
}

/** Every n-gram of the model, gathered by order into arrays sized by the meta's counts. */
async function readNgrams(client: StoreClient, model: string, meta: ModelMeta, onProgress?: (done: number, total: number) => void, asArpa = false): Promise<OrderEntries[]> {
  const ns = modelNamespace(model, 'p');
  const reader = new NgramKeyReader(Buffer.byteLength(ns, 'utf8'));
  const byOrder: OrderEntries[] = meta.counts.map((n, i) => ({ ids: new Uint32Array(n * (i + 1)), logProb: new Float64Array(n), backoff: new Float64Array(n) }));
  const filled = new Array<number>(meta.order).fill(0);
  const total = meta.counts.reduce((a, b) => a + b, 0);
  let done = 0;
  await scanNamespace(client, ns, (keys, values) => {
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const k = reader.orderOf(key);
      if (k > meta.order) throw new Error(`model ${model} holds a ${k}-gram but its meta says order ${meta.order}`);
      const at = filled[k - 1]!++;
      const entries = byOrder[k - 1]!;
      if (at >= entries.logProb.length) throw new Error(`model ${model} holds more ${k}-grams than the ${meta.counts[k - 1]} its meta lists (re-import the model with --replace)`);
      const value = values[i];
      if (!(value instanceof Buffer)) throw new Error(`an n-gram of model ${model} holds a counter, not log10 p and backoff`);
      reader.idsOf(key, k, entries.ids, at * k);
      const { logProb, backoff } = decodeNgramValue(value);
      entries.logProb[at] = asArpa ? arpaReadBack(logProb) : logProb;
      entries.backoff[at] = asArpa ? arpaReadBack(backoff) : backoff;
    }
    done += keys.length;
    onProgress?.(done, total);
  });
  filled.forEach((n, i) => {
    if (n !== meta.counts[i]) throw new Error(`model ${model} holds ${n} ${i + 1}-grams but its meta lists ${meta.counts[i]} (re-import the model with --replace)`);
  });
  return byOrder;
}

/** Reads model `model`; ModelNotFoundError or IncompleteModelError (stored_meta.ts) when it is not whole. */
export async function readModel(client: StoreClient, model: string, opts: ReadModelOptions): Promise<{ lm: LanguageModel; meta: ModelMeta }> {
  const meta = await requireModelMeta(client, model, opts.where);
  opts.onPhase?.(`reading model ${model} from ${opts.where}`);
  const [words, byOrder] = await Promise.all([readVocab(client, model, meta.vocabSize), readNgrams(client, model, meta, opts.onProgress, opts.asArpa)]);
  opts.onPhase?.(`assembling model ${model}`);
  const lm = assembleModel(meta.order, words, byOrder, opts.warn);
  return { lm, meta };
}
