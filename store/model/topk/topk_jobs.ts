// The Top-K heads' per-actor passes (build_heads.ts, encode_heads.ts) as commands of the store
// actors, as the smoothing phases are (smooth/smooth_jobs.ts, which attaches these with its own
// client of the actor and its local page reader): each actor works over the forks it owns, and
// only counts and the codebook sample travel back to the driver (materialise_topk.ts). The
// interpolation jobs that build heads as they go (smooth_jobs.ts) send theirs back in the same
// fields (HEADS_RESULT_FIELDS).
import { avroType, decodeAs } from '../../../schemas/command.js';
import type { StoreActor } from '../../actor/actor.js';
import type { StoreClient } from '../../client/client.js';
import type { LocalBatchWriter } from '../fork_batches.js';
import type { LocalGetter, LocalPageReader } from '../smooth/stat_scan.js';
import { buildHeads } from './build_heads.js';
import { encodeHeads, writeHeldHeads } from './encode_heads.js';
import type { HeadsPassResult } from './head_builder.js';
import type { HeldHeads } from './held_heads.js';

export const TOPK_HEADS = 'topk-heads';
export const TOPK_ENCODE = 'topk-encode';

export interface HeadsJob {
  model: string;
  /** Words of the contexts whose heads this pass builds. */
  length: number;
  k: number;
  forks: string[];
}
export const HeadsJobType = avroType({
  type: 'record',
  name: 'dbslm.topk.HeadsJob',
  fields: [
    { name: 'model', type: 'string' },
    { name: 'length', type: 'int' },
    { name: 'k', type: 'int' },
    { name: 'forks', type: { type: 'array', items: 'string' } },
  ],
});
/** A pass's heads in a reply: counts, and the sample as raw arrays, u32 hashes and f64 values, little-endian (a million of each at most). */
export const HEADS_RESULT_FIELDS = [
  { name: 'rows', type: 'long' },
  { name: 'entries', type: 'long' },
  { name: 'sampleHashes', type: 'bytes' },
  { name: 'sampleValues', type: 'bytes' },
];
export interface HeadsResultFields {
  rows: number;
  entries: number;
  sampleHashes: Buffer;
  sampleValues: Buffer;
}
const HeadsResultType = avroType({ type: 'record', name: 'dbslm.topk.HeadsResult', fields: HEADS_RESULT_FIELDS });

export function headsResultFields(r: HeadsPassResult): HeadsResultFields {
  const { hashes, values } = r.sample;
  const sampleHashes = Buffer.allocUnsafe(4 * hashes.length);
  hashes.forEach((h, i) => sampleHashes.writeUInt32LE(h, 4 * i));
  const sampleValues = Buffer.allocUnsafe(8 * values.length);
  values.forEach((v, i) => sampleValues.writeDoubleLE(v, 8 * i));
  return { rows: r.rows, entries: r.entries, sampleHashes, sampleValues };
}

export function headsOfResultFields(r: HeadsResultFields): HeadsPassResult {
  const hashes = new Uint32Array(r.sampleHashes.length / 4);
  for (let i = 0; i < hashes.length; i++) hashes[i] = r.sampleHashes.readUInt32LE(4 * i);
  const values = new Float64Array(r.sampleValues.length / 8);
  for (let i = 0; i < values.length; i++) values[i] = r.sampleValues.readDoubleLE(8 * i);
  return { rows: r.rows, entries: r.entries, sample: { hashes, values } };
}

export interface EncodeJob {
  model: string;
  bits: number;
  centers: number[];
  forks: string[];
  /** Write only the heads this actor holds (the smoothing's longest contexts': held_heads.ts), once every actor encoded its forks' heads. */
  held: boolean;
  /** The length of the contexts whose heads are held (the scan leaves those it finds: an earlier smoothing's); -1: none are. */
  heldLength: number;
}
export const EncodeJobType = avroType({
  type: 'record',
  name: 'dbslm.topk.EncodeJob',
  fields: [
    { name: 'model', type: 'string' },
    { name: 'bits', type: 'int' },
    { name: 'centers', type: { type: 'array', items: 'double' } },
    { name: 'forks', type: { type: 'array', items: 'string' } },
    { name: 'held', type: 'boolean' },
    { name: 'heldLength', type: 'int' },
  ],
});
const EncodeResultType = avroType({ type: 'record', name: 'dbslm.topk.EncodeResult', fields: [{ name: 'rows', type: 'long' }] });

/** Serves the Top-K passes on `actor`, each through `client()`, a client of the actor itself, reading its own forks' pages with `local`, writing their keys with `localWrite` and reading them with `localGet`; `takeHeld` hands over (once) the heads the actor holds for a model. */
export function attachTopKJobs(actor: StoreActor, client: () => Promise<StoreClient>, local: LocalPageReader, localWrite: LocalBatchWriter, localGet: LocalGetter, takeHeld: (model: string) => HeldHeads | null): void {
  actor.registerCommand(TOPK_HEADS, async (body) => {
    const job = decodeAs<HeadsJob>(HeadsJobType, body, TOPK_HEADS);
    const c = await client();
    await c.refreshMap();
    return HeadsResultType.toBuffer(headsResultFields(await buildHeads(c, job.model, job.length, job.k, job.forks, local, localWrite, localGet)));
  });
  actor.registerCommand(TOPK_ENCODE, async (body) => {
    const job = decodeAs<EncodeJob>(EncodeJobType, body, TOPK_ENCODE);
    const held = job.held ? takeHeld(job.model) : undefined;
    if (held === null) throw new Error(`the Top-K heads of the longest contexts of model ${job.model}, which this actor built and held since its interpolation, are gone (did it restart?): smooth the model again`);
    const c = await client();
    await c.refreshMap();
    const codebook = { centers: Float64Array.from(job.centers), zeroCode: false };
    const rows = held ? await writeHeldHeads(c, held, codebook, job.bits, localWrite) : await encodeHeads(c, job.model, codebook, job.bits, job.forks, local, localWrite, job.heldLength);
    return EncodeResultType.toBuffer({ rows });
  });
}

export function decodeHeadsResult(body: Buffer): HeadsPassResult {
  return headsOfResultFields(decodeAs<HeadsResultFields>(HeadsResultType, body, `${TOPK_HEADS} reply`));
}

export function decodeEncodeResult(body: Buffer): number {
  return decodeAs<{ rows: number }>(EncodeResultType, body, `${TOPK_ENCODE} reply`).rows;
}
