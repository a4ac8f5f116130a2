// A model of the store as ARPA text, streamed: the meta and the vocabulary, then one filtered scan
// of every fork (namespace_scan.ts) feeding each order's records into an OrderRuns (ngram_runs.ts),
// then the file in the canonical order `dbslm export` has always written (unigrams by vocabulary
// id, every higher order by its word-id tuple, numbers as model/arpa_write.ts formats them). It
// holds the vocabulary and at most `memoryBytes` of records, where reading the model into a trie
// first (read_model.ts) held the whole model several times over: 500 MB on KJV order 5.
//
// The same bytes as the ARPA of readModel's model: the same checks (the meta's counts, ids within
// the vocabulary, the vocabulary's special ids, no n-gram beyond the meta's order), and a model
// without <unk> gets `-100 <unk>` as assembleModel gives it (KenLM's substitute).
import fs from 'node:fs';
import { ARPA_END, ArpaEntrySink, arpaHeader, sectionHeader } from '../../model/arpa_write.js';
import { UNK } from '../../model/vocab.js';
import type { ModelMeta } from '../../schemas/model_meta.js';
import type { StoreClient } from '../client/client.js';
import { vocabOf } from './assemble.js';
import { decodeNgramValue, modelNamespace, NgramKeyReader } from './layout.js';
import { scanNamespace } from './namespace_scan.js';
import { OrderRuns } from './ngram_runs.js';
import { readVocab } from './read_model.js';
import { requireModelMeta } from './stored_meta.js';

/**
 * Records held in memory by default: KJV order 5 (1.8M n-grams, 43 MB of records) fits, so
 * models of that size never touch the disk; bigger ones are sorted in runs of this size.
 */
export const EXPORT_MEMORY_BYTES = 64 << 20;
/** Bytes a record costs while held: the record and the two sort permutations' entries. */
const recordBytes = (k: number) => (k + 2) * 4 + 8;

export interface ArpaExportOptions {
  /** The store as the user named it, for messages. */
  where: string;
  /** Directory for sorted runs when the records exceed `memoryBytes` (made on first use, removed by dispose). */
  spillDir: string;
  memoryBytes?: number;
  /** N-grams read so far of the meta's total. */
  onProgress?: (done: number, total: number) => void;
  warn?: (message: string) => void;
}

export interface ArpaExport {
  meta: ModelMeta;
  /** Entries per order as the header lists them; index 0 unused. */
  counts: number[];
  /** Run files written while reading (0: the records fit in memory). */
  runs: number;
  /** The ARPA text, header first, in chunks (reads the runs back as it goes). */
  chunks(): Generator<Buffer | string>;
  /** Removes the run files. */
  dispose(): void;
}

/** Record capacity per order: each order's whole count when all fit in `memoryBytes`, else shares of it by count. */
function capacities(counts: readonly number[], memoryBytes: number): number[] {
  const total = counts.reduce((s, n, i) => s + n * recordBytes(i + 1), 0);
  if (total <= memoryBytes) return counts.map((n) => n);
  return counts.map((n) => Math.floor((n * memoryBytes) / total));
}

/**
 * Every n-gram of the model into its order's runs, checked as readModel checks them; whether the
 * model has the unigram <unk>.
 */
async function readRecords(client: StoreClient, model: string, meta: ModelMeta, byOrder: OrderRuns[], onProgress?: (done: number, total: number) => void): Promise<boolean> {
  const ns = modelNamespace(model, 'p');
  const reader = new NgramKeyReader(Buffer.byteLength(ns, 'utf8'));
  const ids = new Uint32Array(meta.order);
  const total = meta.counts.reduce((a, b) => a + b, 0);
  let done = 0;
  let hasUnk = false;
  await scanNamespace(client, ns, (keys, values) => {
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const k = reader.orderOf(key);
      if (k > meta.order) throw new Error(`model ${model} holds a ${k}-gram but its meta says order ${meta.order}`);
      const records = byOrder[k - 1]!;
      if (records.added >= meta.counts[k - 1]!) throw new Error(`model ${model} holds more ${k}-grams than the ${meta.counts[k - 1]} its meta lists (re-import the model with --replace)`);
      const value = values[i];
      if (!(value instanceof Buffer)) throw new Error(`an n-gram of model ${model} holds a counter, not log10 p and backoff`);
      reader.idsOf(key, k, ids, 0);
      for (let j = 0; j < k; j++) if (ids[j]! >= meta.vocabSize) throw new Error(`a ${k}-gram has word id ${ids[j]}, beyond the ${meta.vocabSize}-word vocabulary`);
      if (k === 1 && ids[0] === UNK) hasUnk = true;
      const { logProb, backoff } = decodeNgramValue(value);
      records.add(ids, 0, logProb, backoff);
    }
    done += keys.length;
    onProgress?.(done, total);
  });
  byOrder.forEach((records, i) => {
    if (records.added !== meta.counts[i]) throw new Error(`model ${model} holds ${records.added} ${i + 1}-grams but its meta lists ${meta.counts[i]} (re-import the model with --replace)`);
  });
  return hasUnk;
}

/** Reads model `model` into sorted runs; ModelNotFoundError or IncompleteModelError (stored_meta.ts) when it is not whole. */
export async function exportArpa(client: StoreClient, model: string, opts: ArpaExportOptions): Promise<ArpaExport> {
  const meta = await requireModelMeta(client, model, opts.where);
  let dirMade = false;
  const spillDir = () => {
    if (!dirMade) fs.mkdirSync(opts.spillDir, { recursive: true });
    dirMade = true;
    return opts.spillDir;
  };
  const dispose = () => {
    if (dirMade) fs.rmSync(opts.spillDir, { recursive: true, force: true });
  };
  try {
    // Room for one more unigram: <unk> when the model lacks it.
    const caps = capacities(meta.counts, opts.memoryBytes ?? EXPORT_MEMORY_BYTES).map((c, i) => c + (i === 0 ? 1 : 0));
    const byOrder = caps.map((cap, i) => new OrderRuns(i + 1, cap, meta.vocabSize, spillDir));
    const [words, hasUnk] = await Promise.all([readVocab(client, model, meta.vocabSize), readRecords(client, model, meta, byOrder, opts.onProgress)]);
    const vocab = vocabOf(words);
    if (!hasUnk) {
      opts.warn?.('the model has no <unk>; unknown words get log10 p = -100, as KenLM substitutes');
      byOrder[0]!.add(Uint32Array.of(UNK), 0, -100, 0);
    }
    const counts = [0, ...byOrder.map((r) => r.added)];
    const runs = byOrder.reduce((s, r) => s + r.spilled, 0);
    function* chunks(): Generator<Buffer | string> {
      yield arpaHeader(counts);
      const sink = new ArpaEntrySink(vocab.words, meta.order);
      for (const records of byOrder) {
        yield sectionHeader(records.k);
        const k = records.k;
        const c = records.sorted();
        while (c.next()) {
          sink.entry(c.u32, c.at, k, c.f32[c.at + k]!, c.f32[c.at + k + 1]!);
          if (sink.full()) yield sink.take();
        }
        const rest = sink.take();
        if (rest.length > 0) yield rest;
      }
      yield ARPA_END;
    }
    return { meta, counts, runs, chunks, dispose };
  } catch (err) {
    dispose();
    throw err;
  }
}
