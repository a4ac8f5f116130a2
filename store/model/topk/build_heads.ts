// The Top-K heads of the contexts of one length, built where the model lives: one pass over the
// given forks' `<model>.p` keys, taking the n-grams of order length + 1 grouped by context. For a
// context h with followers (model/topk.ts buildTopK, the in-process twin):
//
//   head(h) = the best K of h's own followers' log10 p and of head(h') re-weighted by backoff(h),
//             a word of head(h') that h has as a follower not offered again
//
// where h' is h without its first word (its head was built by the pass of length - 1, in whatever
// fork it lives) and backoff(h) is in h's own `<model>.p` entry (another fork). Both are fetched
// with one multiGet per batch of contexts. A suffix without a head of its own (only in a pruned or
// odd ARPA) passes to its own suffix, adding its backoff, as buildTopK does.
//
// Heads are written with exact float32 values (layout.ts encodeExactHead) for the next length;
// encode_heads.ts turns them into codes once the codebook is known. The pass returns the
// codebook sample of its heads (model/topk.ts HeadSample) for the driver to merge.
import { contextHash, entryHash, HeadSample, HeadSelector } from '../../../model/topk.js';
import { BOS } from '../../../model/vocab.js';
import type { StoreClient, Value } from '../../client/client.js';
import { ForkBatchWriter } from '../fork_batches.js';
import { contextPrefix, decodeExactHead, decodeNgramValue, encodeExactHead, modelNamespace, ngramKey, NgramKeyReader, topkKey } from '../layout.js';
import { eachFork, scanRange } from '../smooth/stat_scan.js';

/**
 * The heads' writer: a head is K x 8 bytes (256 at K = 32), 16 times an n-gram value, so the
 * smoothing's defaults (2048 ops a batch, 262144 held back) would put tens of megabytes into one
 * flush and keep the receiving actors' event loops busy for seconds, long enough for their peers to
 * think them dead (seen at KJV order 5 with 3 actors). About 4 MB held back at most instead.
 */
export const HEAD_WRITES = { opsPerBatch: 256, maxBuffered: 16384 } as const;

/** Lookups (two per context) gathered per multiGet, at least. */
const LOOKUPS_PER_BATCH = 2048;

export interface HeadsPassResult {
  /** Heads written. */
  rows: number;
  /** Entries over those heads. */
  entries: number;
  sample: { hashes: Uint32Array; values: Float64Array };
}

interface Context {
  ids: number[];
  words: number[];
  logProbs: number[];
}

/** Builds the heads of the contexts of `length` words whose followers are in `forks`. */
export async function buildHeads(client: StoreClient, model: string, length: number, k: number, forks: readonly string[]): Promise<HeadsPassResult> {
  const ns = modelNamespace(model, 'p');
  const keys = new NgramKeyReader(Buffer.byteLength(ns, 'utf8'));
  const writer = new ForkBatchWriter(client, HEAD_WRITES);
  const best = new HeadSelector(k);
  const sample = new HeadSample();
  let rows = 0;
  let entries = 0;

  const backoffIn = (v: Value): number => (v instanceof Buffer ? decodeNgramValue(v).backoff : 0);

  const writeHead = async (ctx: Context, suffix: { words: number[]; values: number[] } | null, extra: number): Promise<void> => {
    best.reset();
    for (let i = 0; i < ctx.words.length; i++) if (!(length === 0 && ctx.words[i] === BOS)) best.offer(ctx.words[i]!, ctx.logProbs[i]!);
    if (suffix) {
      const own = new Set(ctx.words);
      for (let i = 0; i < suffix.words.length; i++) if (!own.has(suffix.words[i]!)) best.offer(suffix.words[i]!, suffix.values[i]! + extra);
    }
    const values = Float32Array.from(best.values.subarray(0, best.filled));
    const hash = contextHash(ctx.ids);
    for (let i = 0; i < values.length; i++) sample.add(entryHash(hash, i), values[i]!);
    writer.set(topkKey(model, ctx.ids), encodeExactHead(best.words.subarray(0, best.filled), values));
    rows++;
    entries += values.length;
    await writer.ready();
  };

  /** The head of the nearest suffix of `ctx` shorter than h' that has one, when h' has none, and the backoffs passed. */
  const fallBack = async (ctx: Context, extra: number): Promise<{ head: { words: number[]; values: number[] }; extra: number }> => {
    for (let s = ctx.ids.slice(1); ; ) {
      if (!s.length) throw new Error(`model ${model}: the empty context has no Top-K head, which the contexts of length ${length} need; the heads of length 0 did not finish: build them again`);
      extra += backoffIn(await client.get(ngramKey(model, s)));
      s = s.slice(1);
      const v = await client.get(topkKey(model, s));
      if (v instanceof Buffer) return { head: decodeExactHead(v), extra };
    }
  };

  let pending: Context[] = [];
  let lookups: Buffer[] = [];
  const flush = async (): Promise<void> => {
    if (!pending.length) return;
    const batch = pending;
    const keys = lookups;
    // Taken before the wait: the other fork's scan goes on gathering meanwhile.
    pending = [];
    lookups = [];
    const values = await client.multiGet(keys);
    for (let c = 0; c < batch.length; c++) {
      const ctx = batch[c]!;
      const head = values[2 * c];
      const extra = backoffIn(values[2 * c + 1]);
      if (head instanceof Buffer) await writeHead(ctx, decodeExactHead(head), extra);
      else {
        const found = await fallBack(ctx, extra);
        await writeHead(ctx, found.head, found.extra);
      }
    }
  };

  const onContext = async (ctx: Context): Promise<void> => {
    if (length === 0) return writeHead(ctx, null, 0);
    pending.push(ctx);
    lookups.push(topkKey(model, ctx.ids.slice(1)), ngramKey(model, ctx.ids));
    if (lookups.length >= LOOKUPS_PER_BATCH) await flush();
  };

  const scan = async (range: Buffer): Promise<void> => {
    const ids = new Uint32Array(length + 1);
    let current: Context | null = null;
    let currentPrefix: Buffer | null = null;
    await scanRange(client, ns, range, async (pageKeys, pageValues) => {
      for (let i = 0; i < pageKeys.length; i++) {
        const key = pageKeys[i]!;
        if (keys.orderOf(key) !== length + 1) continue;
        const prefix = key.subarray(0, key.length - 4);
        if (!currentPrefix || !prefix.equals(currentPrefix)) {
          if (current) await onContext(current);
          keys.idsOf(key, length + 1, ids, 0);
          current = { ids: Array.from(ids.subarray(0, length)), words: [], logProbs: [] };
          currentPrefix = prefix;
        }
        const value = pageValues[i];
        if (!(value instanceof Buffer)) throw new Error(`an n-gram of model ${model} holds a counter, not log10 p and backoff`);
        current!.words.push(key.readUInt32BE(key.length - 4));
        current!.logProbs.push(decodeNgramValue(value).logProb);
      }
    });
    if (current) await onContext(current);
  };

  if (length === 0) {
    // One context, one routing prefix: scan just it, if it is in these forks.
    const unigrams = contextPrefix(model, []);
    if (forks.includes(client.map.lookup(unigrams).fork)) await scan(unigrams);
  } else await eachFork(forks, 2, (fork) => scan(Buffer.from(fork, 'hex')));
  await flush();
  await writer.finish();
  return { rows, entries, sample: sample.entries() };
}
