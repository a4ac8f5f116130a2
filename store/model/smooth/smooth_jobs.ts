// Smoothing where the counts live: the per-fork phases (adjustStats, interpolateOrder) as commands
// of the store actors, so each actor computes over the forks it owns, in its own process, and only
// small results travel back to the driver (counts-of-counts, numbers of n-grams written, the Top-K
// heads' counts and codebook sample when the interpolation builds them). The adjust job keeps
// every order's share of the actor's forks as its one pass decodes them (order_shares.ts), and the
// interpolation of each order takes its share instead of reading the store's statistics again. The
// lower-order probabilities a context needs are the actor's own requests to its peers; its writes
// are exactly-once batches like any client's. The driver (smooth_model.ts) sends one command per
// actor per phase and waits for all.
//
// An actor runs a job through a StoreClient of its own, connected to itself (so reads and writes
// of forks that moved meanwhile follow MOVED as a client's do), except that the scan pages, writes
// and point reads of forks it serves go to its database directly (local_store.ts); jobs are async,
// so the actor keeps serving requests, its own job's included, while one runs.
import { avroType, decodeAs } from '../../../schemas/command.js';
import type { StoreActor } from '../../actor/actor.js';
import { StoreClient } from '../../client/client.js';
import { HeldHeads } from '../topk/held_heads.js';
import { attachTopKJobs, HEADS_RESULT_FIELDS, headsOfResultFields, headsResultFields, type HeadsResultFields } from '../topk/topk_jobs.js';
import { adjustStats } from './adjust_stats.js';
import { interpolateOrder, type InterpolateResult } from './interpolate_order.js';
import { localGets, localPages, localWrites } from './local_store.js';
import { OrderSplit, splitOrders, type OrderShare } from './order_shares.js';
import { readVocabIndex, type VocabIndex } from './vocab_assign.js';

export const SMOOTH_ADJUST = 'smooth-adjust';
export const SMOOTH_INTERPOLATE = 'smooth-interpolate';

export interface AdjustJob {
  model: string;
  order: number;
  forks: string[];
  /** The vocabulary's size as the driver assigned and wrote it (`<model>.vocab`): the actor reads that many words. */
  vocabSize: number;
  /** Which smoothing run this is (the meta's version): the orders' shares kept for it serve only its interpolation. */
  run: number;
}
export const AdjustJobType = avroType({
  type: 'record',
  name: 'dbslm.smooth.AdjustJob',
  fields: [
    { name: 'model', type: 'string' },
    { name: 'order', type: 'int' },
    { name: 'forks', type: { type: 'array', items: 'string' } },
    { name: 'vocabSize', type: 'long' },
    { name: 'run', type: 'long' },
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
  /** The vocabulary's size as the driver assigned and wrote it (`<model>.vocab`): the actor reads that many words. */
  vocabSize: number;
  /** Build the Top-K heads of the contexts of k - 1 words with this K as the pass goes (the materialise step); 0: none. */
  topkK: number;
  /** Which smoothing run this is (the meta's version), as in AdjustJob. */
  run: number;
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
    { name: 'topkK', type: 'int' },
    { name: 'run', type: 'long' },
  ],
});
/** The heads' fields are zeros and empty without topkK. */
export const InterpolateResultType = avroType({ type: 'record', name: 'dbslm.smooth.InterpolateResult', fields: [{ name: 'written', type: 'long' }, { name: 'heads', type: 'boolean' }, ...HEADS_RESULT_FIELDS] });
const NO_HEADS: HeadsResultFields = { rows: 0, entries: 0, sampleHashes: Buffer.alloc(0), sampleValues: Buffer.alloc(0) };

/** Serves the smoothing jobs on `actor` (an actor extension: store/actor/extensions.ts). */
export function attachSmoothJobs(actor: StoreActor): void {
  let client: Promise<StoreClient> | null = null;
  const local = localPages(actor);
  const localWrite = localWrites(actor);
  const localGet = localGets(actor);
  // Connected on first use: the actor's endpoint is known once it serves.
  const ownClient = () => (client ??= StoreClient.connect([actor.endpoint], { timeoutMs: 30000 }));
  // The vocabulary is read once per smoothing run, by its adjust job (the interpolation reuses it).
  let vocab: { of: string; index: Promise<VocabIndex> } | null = null;
  const vocabFor = (c: StoreClient, job: { model: string; run: number; vocabSize: number }): Promise<VocabIndex> => {
    const of = JSON.stringify([job.model, job.run, job.vocabSize]);
    if (vocab?.of !== of) vocab = { of, index: readVocabIndex(c, job.model, job.vocabSize) };
    return vocab.index;
  };
  // The heads of the longest contexts of the last interpolation, until the codes pass takes them.
  let held: HeldHeads | null = null;
  // The orders' shares of this actor's forks (order_shares.ts), kept by the adjust job of a
  // smoothing run and each handed to its order's interpolation; `of` names the run and the forks.
  let shares: { of: string; byOrder: Map<number, OrderShare> } | null = null;
  const sharesOf = (job: { model: string; run: number; vocabSize: number; forks: string[] }) => JSON.stringify([job.model, job.run, job.vocabSize, job.forks]);
  /** Order k's share for `job`: the adjust job's, or orders k..N split now from the store (an actor that restarted since, or forks that moved). */
  const shareFor = async (c: StoreClient, job: InterpolateJob, index: VocabIndex): Promise<OrderShare> => {
    const mine = shares?.of === sharesOf(job) ? shares.byOrder.get(job.k) : undefined;
    if (mine) {
      shares!.byOrder.delete(job.k); // its memory goes with its order
      return mine;
    }
    shares = null;
    const split = await splitOrders(c, job.model, job.discounts.length - 1, index, job.forks, job.k, job.discounts.length - 1, { local });
    shares = { of: sharesOf(job), byOrder: new Map(split.slice(1).map((share) => [share.k, share])) };
    return split[0]!;
  };

  actor.registerCommand(SMOOTH_ADJUST, async (body) => {
    const job = decodeAs<AdjustJob>(AdjustJobType, body, SMOOTH_ADJUST);
    shares = null; // a new run: an earlier run's shares are stale
    const c = await ownClient();
    await c.refreshMap();
    const split = new OrderSplit(await vocabFor(c, job), 1, job.order);
    const countsOfCounts = await adjustStats(c, job.model, job.order, job.forks, { local, localWrite, onRange: (k, range, followers, a) => split.add(k, range, followers, a) });
    shares = { of: sharesOf(job), byOrder: new Map(split.done().map((share) => [share.k, share])) };
    return AdjustResultType.toBuffer({ countsOfCounts });
  });
  actor.registerCommand(SMOOTH_INTERPOLATE, async (body) => {
    const job = decodeAs<InterpolateJob>(InterpolateJobType, body, SMOOTH_INTERPOLATE);
    const c = await ownClient();
    await c.refreshMap();
    const index = await vocabFor(c, job);
    // The heads of the model's order wait here for their codes (topk/held_heads.ts).
    const holdHeads = job.topkK && job.k === job.discounts.length - 1 ? (held = new HeldHeads(job.model)) : undefined;
    const share = await shareFor(c, job, index);
    const r = await interpolateOrder(c, job.model, job.k, job.discounts, index, job.forks, { local, localWrite, localGet, topkK: job.topkK, holdHeads, share });
    return InterpolateResultType.toBuffer({ written: r.written, heads: r.heads !== null, ...(r.heads ? headsResultFields(r.heads) : NO_HEADS) });
  });
  // The Top-K heads built after `store import`, with the same client and page reader.
  attachTopKJobs(actor, ownClient, local, localWrite, localGet, (model) => {
    const mine = held?.model === model ? held : null;
    held = null;
    return mine;
  });
}

export function decodeAdjustResult(body: Buffer): number[][] {
  return decodeAs<{ countsOfCounts: number[][] }>(AdjustResultType, body, `${SMOOTH_ADJUST} reply`).countsOfCounts;
}
export function decodeInterpolateResult(body: Buffer): InterpolateResult {
  const r = decodeAs<{ written: number; heads: boolean } & HeadsResultFields>(InterpolateResultType, body, `${SMOOTH_INTERPOLATE} reply`);
  return { written: r.written, heads: r.heads ? headsOfResultFields(r) : null };
}
