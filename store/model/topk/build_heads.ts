// The Top-K heads of the contexts of one length from n-grams already written (after `store import`;
// the pipeline builds them while it interpolates, smooth/interpolate_order.ts): one pass over the
// given forks' `<model>.p` keys, taking the n-grams of order length + 1 grouped by context, each
// context's head built by head_builder.ts. The suffix heads and the contexts' own entries (for
// their backoffs) are fetched with one multiGet per batch of contexts.
import type { StoreClient } from '../../client/client.js';
import type { LocalBatchWriter } from '../fork_batches.js';
import { contextPrefix, decodeNgramValue, modelNamespace, NgramKeyReader } from '../layout.js';
import { eachFork, multiGetLocal, scanRange, type LocalGetter, type LocalPageReader } from '../smooth/stat_scan.js';
import { backoffIn, HeadBuilder, type HeadsPassResult } from './head_builder.js';

/** Lookups (two per context) gathered per multiGet, at least. */
const LOOKUPS_PER_BATCH = 2048;

interface Context {
  ids: number[];
  words: number[];
  logProbs: number[];
}

/** Builds the heads of the contexts of `length` words whose followers are in `forks`; `local` reads the own actor's pages without a request, `localWrite` writes its forks' heads and `localGet` reads its forks' keys so. */
export async function buildHeads(client: StoreClient, model: string, length: number, k: number, forks: readonly string[], local?: LocalPageReader, localWrite?: LocalBatchWriter, localGet?: LocalGetter): Promise<HeadsPassResult> {
  const ns = modelNamespace(model, 'p');
  const keys = new NgramKeyReader(Buffer.byteLength(ns, 'utf8'));
  const heads = new HeadBuilder(client, model, length, k, localWrite);

  let pending: Context[] = [];
  let lookups: Buffer[] = [];
  const flush = async (): Promise<void> => {
    if (!pending.length) return;
    const batch = pending;
    const asked = lookups;
    // Taken before the wait: the other fork's scan goes on gathering meanwhile.
    pending = [];
    lookups = [];
    const values = await multiGetLocal(client, asked, localGet);
    for (let c = 0; c < batch.length; c++) {
      const ctx = batch[c]!;
      await heads.add(ctx.ids, ctx.words, ctx.logProbs, values[2 * c], backoffIn(values[2 * c + 1]));
    }
  };

  const onContext = async (ctx: Context): Promise<void> => {
    if (length === 0) return heads.add(ctx.ids, ctx.words, ctx.logProbs, undefined, 0);
    pending.push(ctx);
    lookups.push(heads.suffixKey(ctx.ids), heads.ngramKeyOf(ctx.ids));
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
    }, { local, keyBytes: keys.keyBytesOf(length + 1) });
    if (current) await onContext(current);
  };

  if (length === 0) {
    // One context, one routing prefix: scan just it, if it is in these forks.
    const unigrams = contextPrefix(model, []);
    if (forks.includes(client.map.lookup(unigrams).fork)) await scan(unigrams);
  } else await eachFork(forks, 2, (fork) => scan(Buffer.from(fork, 'hex')));
  await flush();
  return heads.finish();
}
