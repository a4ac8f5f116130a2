// The driver that turns a model's counted training statistics (`<model>.stat`) into the finished
// model in the model layout (`<model>.meta/vocab/word/p`), equal to what model/build.ts estimates
// in-process from the same text. Phases, each over the whole store:
//
//   vocab        assignVocab: word ids by first appearance
//   adjust       adjustStats per actor (every owner at once): STATS keys and counts-of-counts,
//                summed here -> discounts (model/discounts.ts); each actor keeps its forks' share
//                of every order for the interpolation (order_shares.ts)
//   interpolate  interpolateOrder k = 1..N per actor, order by order (k reads order k - 1's p);
//                with `topk` (the pipeline's materialise stage) order k also writes the Top-K
//                heads of its contexts (k - 1 words), which order k + 1 reads; order N's heads are
//                held by the actors that built them (topk/held_heads.ts), as nothing reads them
//   top-k codes  with `topk`: the heads' codebook and codes (topk/materialise_topk.ts encodeTopK),
//                the held heads written with their codes
//
// The per-actor phases run inside the store actors, each over the forks it owns (smooth_jobs.ts):
// the driver sends a command per actor and receives counts-of-counts and n-gram counts.
//
// The meta is written incomplete first and complete last, so a crash never leaves a model that
// reads as whole. No process holds all the counts: each actor holds its own forks' share.
import { checkOrder } from '../../../model/build.js';
import { estimateDiscounts, type Discounts } from '../../../model/discounts.js';
import type { ModelMeta, OrderDiscounts } from '../../../schemas/model_meta.js';
import type { StoreClient } from '../../client/client.js';
import { perOwner, runActorJob } from '../actor_jobs.js';
import { MODEL_LAYOUT } from '../layout.js';
import { checkTopKOptions, encodeTopK, HeadsTally, type TopKOptions } from '../topk/materialise_topk.js';
import { readModelMeta, writeModelMeta } from '../stored_meta.js';
import { AdjustJobType, decodeAdjustResult, decodeInterpolateResult, InterpolateJobType, SMOOTH_ADJUST, SMOOTH_INTERPOLATE } from './smooth_jobs.js';
import { assignVocab } from './vocab_assign.js';

export interface SmoothOptions {
  model: string;
  order: number;
  tokenizer: string;
  discountFallback: boolean;
  /** Where the statistics came from (kept in the meta), e.g. `pipeline:kjv5`. */
  source: string;
  onPhase?: (phase: string) => void;
  /** Write the Top-K heads too, with this K and bits (the meta is complete only after them). */
  topk?: TopKOptions;
}

export interface SmoothResult {
  vocabSize: number;
  /** Entries per order: counts[0] unigrams ... counts[order - 1]. */
  counts: number[];
  discounts: OrderDiscounts[];
  /** countsOfCounts[k][j]: order-k n-grams with adjusted count j = 1..4 (index 0 unused). */
  countsOfCounts: number[][];
  /** Wall time of each phase. */
  phaseMs: Record<string, number>;
}

export function sumCountsOfCounts(order: number, parts: readonly number[][][]): number[][] {
  const sum = Array.from({ length: order + 1 }, () => [0, 0, 0, 0, 0]);
  for (const part of parts) for (let k = 1; k <= order; k++) for (let j = 1; j <= 4; j++) sum[k]![j]! += part[k]![j]!;
  return sum;
}

export function orderDiscounts(discounts: Discounts): OrderDiscounts[] {
  return discounts.slice(1).map((d, i) => ({ order: i + 1, d1: d[1]!, d2: d[2]!, d3plus: d[3]! }));
}

export async function smoothModel(client: StoreClient, opts: SmoothOptions): Promise<SmoothResult> {
  const { model, order } = opts;
  checkOrder(order);
  const phaseMs: Record<string, number> = {};
  const timed = async <T>(phase: string, work: () => Promise<T>): Promise<T> => {
    opts.onPhase?.(phase);
    const start = performance.now();
    try {
      return await work();
    } finally {
      phaseMs[phase] = performance.now() - start;
    }
  };

  const old = await readModelMeta(client, model);
  const meta: ModelMeta = {
    layout: MODEL_LAYOUT,
    complete: false,
    version: Math.max((old?.version ?? 0) + 1, Date.now()),
    order,
    tokenizer: opts.tokenizer,
    vocabSize: 0,
    counts: [],
    discounts: [],
    source: opts.source,
    writtenMs: Date.now(),
    topk: null,
  };
  await writeModelMeta(client, model, meta);

  const vocab = await timed('vocab', () => assignVocab(client, model));
  const job = (owner: string, command: string, body: Buffer): Promise<Buffer> => runActorJob(client, owner, command, body);
  const parts = await timed('adjust', () => perOwner(client, async (owner, forks) => decodeAdjustResult(await job(owner, SMOOTH_ADJUST, AdjustJobType.toBuffer({ model, order, forks, vocabSize: vocab.size, run: meta.version })))));
  const countsOfCounts = sumCountsOfCounts(order, parts);
  const discounts = estimateDiscounts(countsOfCounts, order, opts.discountFallback);

  const counts: number[] = [];
  const topkK = opts.topk ? checkTopKOptions(opts.topk).k : 0;
  const heads = opts.topk ? new HeadsTally() : null;
  for (let k = 1; k <= order; k++) {
    const phase = `interpolate ${k}`;
    const parts = await timed(phase, () =>
      perOwner(client, async (owner, forks) => decodeInterpolateResult(await job(owner, SMOOTH_INTERPOLATE, InterpolateJobType.toBuffer({ model, k, discounts, forks, vocabSize: vocab.size, topkK, run: meta.version })))),
    );
    counts.push(parts.reduce((s, part) => s + part.written, 0));
    for (const part of parts) if (part.heads) heads!.add(part.heads);
  }

  const topk = opts.topk && heads ? await encodeTopK(client, model, heads, opts.topk, timed, order - 1) : null;
  Object.assign(meta, { topk, complete: true, vocabSize: vocab.size, counts, discounts: orderDiscounts(discounts) });
  await writeModelMeta(client, model, meta);
  return { vocabSize: vocab.size, counts, discounts: meta.discounts, countsOfCounts, phaseMs };
}
