// The driver of the Top-K heads of a model already in the store (`<model>.p` complete): the
// pipeline's materialise step (after smoothing, smooth/smooth_model.ts) and `store import`
// (write_model.ts) both run it, so every way of building gives the same heads. Passes, each in
// every store actor at once over the forks it owns (topk_jobs.ts):
//
//   heads 0 .. order-1   build_heads.ts for the contexts of that length (a length reads the heads
//                        of the one before, so they go in order); each actor returns its
//                        codebook sample, merged here
//   codes                the codebook, trained here on the merged sample as buildTopK trains it,
//                        goes to every actor, which rewrites its heads with codes (encode_heads.ts)
//
// Resolves with the meta's topk record; the caller writes it into the meta and marks it complete.
import { HeadSample, headCodebook } from '../../../model/topk.js';
import { InputError } from '../../../model/errors.js';
import type { TopKMeta } from '../../../schemas/model_meta.js';
import type { StoreClient } from '../../client/client.js';
import { perOwner, runActorJob } from '../actor_jobs.js';
import { decodeEncodeResult, decodeHeadsResult, EncodeJobType, HeadsJobType, TOPK_ENCODE, TOPK_HEADS } from './topk_jobs.js';

export interface TopKOptions {
  /** Followers kept per context. */
  k: number;
  /** Bits of the codes (1 .. 16). */
  bits: number;
}

/** Throws an input error unless k and bits can make heads. */
export function checkTopKOptions(opts: TopKOptions): TopKOptions {
  if (!(Number.isInteger(opts.k) && opts.k >= 1 && opts.k <= 65535)) throw new InputError(`the Top-K k must be a whole number from 1 to 65535, got ${opts.k}`);
  if (!(Number.isInteger(opts.bits) && opts.bits >= 1 && opts.bits <= 16)) throw new InputError(`the Top-K bits must be a whole number from 1 to 16, got ${opts.bits}`);
  return opts;
}

export async function materialiseTopK(client: StoreClient, model: string, order: number, opts: TopKOptions, timed: <T>(phase: string, work: () => Promise<T>) => Promise<T>): Promise<TopKMeta> {
  const { k, bits } = checkTopKOptions(opts);
  const sample = new HeadSample();
  let rows = 0;
  let entries = 0;
  for (let length = 0; length < order; length++) {
    const parts = await timed(`top-k ${length}`, () =>
      perOwner(client, async (owner, forks) => decodeHeadsResult(await runActorJob(client, owner, TOPK_HEADS, HeadsJobType.toBuffer({ model, length, k, forks })))),
    );
    for (const part of parts) {
      rows += part.rows;
      entries += part.entries;
      const { hashes, values } = part.sample;
      for (let i = 0; i < hashes.length; i++) sample.add(hashes[i]!, values[i]!);
    }
  }
  const codebook = headCodebook(sample.entries().values, bits);
  const centers = Array.from(codebook.centers);
  const encoded = await timed('top-k codes', () => perOwner(client, async (owner, forks) => decodeEncodeResult(await runActorJob(client, owner, TOPK_ENCODE, EncodeJobType.toBuffer({ model, bits, centers, forks })))));
  const coded = encoded.reduce((a, b) => a + b, 0);
  if (coded !== rows) throw new Error(`model ${model}: ${rows} Top-K heads were built but ${coded} encoded; was the model written to meanwhile?`);
  return { k, bits, centers, rows, entries };
}
