// The driver of the Top-K heads of a model in the store. Passes, each in every store actor at once
// over the forks it owns (topk_jobs.ts):
//
//   heads 0 .. order-1   the heads of the contexts of each length (a length reads the heads of the
//                        one before, so they go in order); each actor returns its codebook
//                        sample, merged here (HeadsTally). After `store import` (write_model.ts),
//                        materialiseTopK runs build_heads.ts per length over the written n-grams;
//                        the pipeline's smoothing (smooth/smooth_model.ts) builds them while it
//                        interpolates instead, order k giving the heads of length k - 1.
//   codes                encodeTopK: the codebook, trained here on the merged sample as buildTopK
//                        trains it, goes to every actor, which rewrites its heads with codes
//                        (encode_heads.ts)
//
// Both use head_builder.ts for each head, so every way of building gives the same heads.
// Resolves with the meta's topk record; the caller writes it into the meta and marks it complete.
import { HeadSample, headCodebook } from '../../../model/topk.js';
import { InputError } from '../../../model/errors.js';
import type { TopKMeta } from '../../../schemas/model_meta.js';
import type { StoreClient } from '../../client/client.js';
import { perOwner, runActorJob } from '../actor_jobs.js';
import type { HeadsPassResult } from './head_builder.js';
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

type Timed = <T>(phase: string, work: () => Promise<T>) => Promise<T>;

/** The heads built so far, over passes and actors: how many, and the merged codebook sample. */
export class HeadsTally {
  private readonly sample = new HeadSample();
  rows = 0;
  entries = 0;

  add(part: HeadsPassResult): void {
    this.rows += part.rows;
    this.entries += part.entries;
    const { hashes, values } = part.sample;
    for (let i = 0; i < hashes.length; i++) this.sample.add(hashes[i]!, values[i]!);
  }

  sampleValues(): Float64Array {
    return this.sample.entries().values;
  }
}

/** The heads of a model whose n-grams are written (`store import`): every length's pass, then the codes. */
export async function materialiseTopK(client: StoreClient, model: string, order: number, opts: TopKOptions, timed: Timed): Promise<TopKMeta> {
  const { k } = checkTopKOptions(opts);
  const tally = new HeadsTally();
  for (let length = 0; length < order; length++) {
    const parts = await timed(`top-k ${length}`, () =>
      perOwner(client, async (owner, forks) => decodeHeadsResult(await runActorJob(client, owner, TOPK_HEADS, HeadsJobType.toBuffer({ model, length, k, forks })))),
    );
    for (const part of parts) tally.add(part);
  }
  return encodeTopK(client, model, tally, opts, timed, -1);
}

/**
 * The codes of the heads in `tally` (every length built): the codebook from its sample, then every
 * actor's heads rewritten with it; with `heldLength` >= 0, the heads of contexts of that length are
 * the ones the actors hold (the smoothing's longest contexts': held_heads.ts), written after.
 */
export async function encodeTopK(client: StoreClient, model: string, tally: HeadsTally, opts: TopKOptions, timed: Timed, heldLength: number): Promise<TopKMeta> {
  const { k, bits } = checkTopKOptions(opts);
  const codebook = headCodebook(tally.sampleValues(), bits);
  const centers = Array.from(codebook.centers);
  const encode = (held: boolean) => perOwner(client, async (owner, forks) => decodeEncodeResult(await runActorJob(client, owner, TOPK_ENCODE, EncodeJobType.toBuffer({ model, bits, centers, forks, held, heldLength }))));
  // The held heads only once every stored head is encoded (encode_heads.ts writeHeldHeads).
  const encoded = await timed('top-k codes', async () => [...(await encode(false)), ...(heldLength >= 0 ? await encode(true) : [])]);
  const coded = encoded.reduce((a, b) => a + b, 0);
  const { rows, entries } = tally;
  if (coded !== rows) throw new Error(`model ${model}: ${rows} Top-K heads were built but ${coded} encoded; was the model written to meanwhile?`);
  return { k, bits, centers, rows, entries };
}
