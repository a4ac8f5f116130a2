// Smoothing where the counts live: the per-fork phases (adjustStats, interpolateOrder) as commands
// of the store actors, so each actor computes over the forks it owns, in its own process, and only
// small results travel back to the driver (counts-of-counts, numbers of n-grams written). The
// lower-order probabilities a context needs are the actor's own requests to its peers; its writes
// are exactly-once batches like any client's. The driver (smooth_model.ts) sends one command per
// actor per phase and waits for all.
//
// An actor runs a job through a StoreClient of its own, connected to itself (so reads and writes
// of forks that moved meanwhile follow MOVED as a client's do); jobs are async, so the actor keeps
// serving requests, its own job's included, while one runs.
import { avroType, decodeAs } from '../../../schemas/command.js';
import type { StoreActor } from '../../actor/actor.js';
import { StoreClient } from '../../client/client.js';
import { attachTopKJobs } from '../topk/topk_jobs.js';
import { adjustStats } from './adjust_stats.js';
import { interpolateOrder } from './interpolate_order.js';
import { loadVocabIndex, type VocabIndex } from './vocab_assign.js';

export const SMOOTH_ADJUST = 'smooth-adjust';
export const SMOOTH_INTERPOLATE = 'smooth-interpolate';

export interface AdjustJob {
  model: string;
  order: number;
  forks: string[];
}
export const AdjustJobType = avroType({
  type: 'record',
  name: 'dbslm.smooth.AdjustJob',
  fields: [
    { name: 'model', type: 'string' },
    { name: 'order', type: 'int' },
    { name: 'forks', type: { type: 'array', items: 'string' } },
  ],
});
export const AdjustResultType = avroType({
  type: 'record',
  name: 'dbslm.smooth.AdjustResult',
  fields: [{ name: 'countsOfCounts', type: { type: 'array', items: { type: 'array', items: 'long' } } }],
});

export interface InterpolateJob {
  model: string;
  k: number;
  /** discounts[k] = [0, D1, D2, D3+] for k = 0..order (row 0 unused). */
  discounts: number[][];
  forks: string[];
  /** The vocabulary's size as the driver assigned it: the actor derives the same one and checks. */
  vocabSize: number;
}
export const InterpolateJobType = avroType({
  type: 'record',
  name: 'dbslm.smooth.InterpolateJob',
  fields: [
    { name: 'model', type: 'string' },
    { name: 'k', type: 'int' },
    { name: 'discounts', type: { type: 'array', items: { type: 'array', items: 'double' } } },
    { name: 'forks', type: { type: 'array', items: 'string' } },
    { name: 'vocabSize', type: 'long' },
  ],
});
export const InterpolateResultType = avroType({ type: 'record', name: 'dbslm.smooth.InterpolateResult', fields: [{ name: 'written', type: 'long' }] });

/** Serves the smoothing jobs on `actor` (an actor extension: store/actor/extensions.ts). */
export function attachSmoothJobs(actor: StoreActor): void {
  let client: Promise<StoreClient> | null = null;
  // Connected on first use: the actor's endpoint is known once it serves.
  const ownClient = () => (client ??= StoreClient.connect([actor.endpoint], { timeoutMs: 30000 }));
  // The vocabulary is read once per model per interpolation pass (orders 1..N reuse it).
  let vocab: { model: string; size: number; index: Promise<VocabIndex> } | null = null;

  actor.registerCommand(SMOOTH_ADJUST, async (body) => {
    const job = decodeAs<AdjustJob>(AdjustJobType, body, SMOOTH_ADJUST);
    const c = await ownClient();
    await c.refreshMap();
    return AdjustResultType.toBuffer({ countsOfCounts: await adjustStats(c, job.model, job.order, job.forks) });
  });
  actor.registerCommand(SMOOTH_INTERPOLATE, async (body) => {
    const job = decodeAs<InterpolateJob>(InterpolateJobType, body, SMOOTH_INTERPOLATE);
    const c = await ownClient();
    await c.refreshMap();
    if (!vocab || vocab.model !== job.model || vocab.size !== job.vocabSize) vocab = { model: job.model, size: job.vocabSize, index: loadVocabIndex(c, job.model) };
    const index = await vocab.index;
    if (index.size !== job.vocabSize) throw new Error(`model ${job.model}: this actor derives ${index.size} words from the statistics, the driver assigned ${job.vocabSize}; were counts written during smoothing?`);
    return InterpolateResultType.toBuffer({ written: await interpolateOrder(c, job.model, job.k, job.discounts, index, job.forks) });
  });
  // The Top-K heads built after the smoothing (the materialise step), with the same client.
  attachTopKJobs(actor, ownClient);
}

export function decodeAdjustResult(body: Buffer): number[][] {
  return decodeAs<{ countsOfCounts: number[][] }>(AdjustResultType, body, `${SMOOTH_ADJUST} reply`).countsOfCounts;
}
export function decodeInterpolateResult(body: Buffer): number {
  return decodeAs<{ written: number }>(InterpolateResultType, body, `${SMOOTH_INTERPOLATE} reply`).written;
}
