// The driver that turns a model's counted training statistics (`<model>.stat`) into the finished
// model in the model layout (`<model>.meta/vocab/word/p`), equal to what model/build.ts estimates
// in-process from the same text. Phases, each over the whole store:
//
//   vocab        assignVocab: word ids by first appearance
//   adjust       adjustStats per actor (one worker per owner, concurrently): STATS keys and
//                counts-of-counts, summed here -> discounts (model/discounts.ts)
//   interpolate  interpolateOrder k = 1..N per actor, order by order (k reads order k - 1's p)
//
// The meta is written incomplete first and complete last, so a crash never leaves a model that
// reads as whole. No process holds the counts: each worker streams one context range at a time.
import { checkOrder } from '../../../model/build.js';
import { estimateDiscounts, type Discounts } from '../../../model/discounts.js';
import type { ModelMeta, OrderDiscounts } from '../../../schemas/model_meta.js';
import type { StoreClient } from '../../client/client.js';
import { MODEL_LAYOUT } from '../layout.js';
import { readModelMeta, writeModelMeta } from '../stored_meta.js';
import { adjustStats } from './adjust_stats.js';
import { interpolateOrder } from './interpolate_order.js';
import { forksByOwner } from './stat_scan.js';
import { assignVocab } from './vocab_assign.js';

export interface SmoothOptions {
  model: string;
  order: number;
  tokenizer: string;
  discountFallback: boolean;
  /** Where the statistics came from (kept in the meta), e.g. `pipeline:kjv5`. */
  source: string;
  onPhase?: (phase: string) => void;
  /** Context ranges done so far in the phase. */
  onProgress?: (phase: string, done: number) => void;
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

/**
 * Runs `work` once per owner with that owner's forks, all owners at once; results in owner order.
 * Each worker reports its own running count; `onProgress` hears their sum.
 */
async function perActor<T>(client: StoreClient, work: (forks: string[], onProgress: (done: number) => void) => Promise<T>, onProgress?: (done: number) => void): Promise<T[]> {
  const owners = [...forksByOwner(client).values()];
  const done = new Array<number>(owners.length).fill(0);
  return Promise.all(
    owners.map((forks, i) =>
      work(forks, (n) => {
        done[i] = n;
        onProgress?.(done.reduce((s, x) => s + x, 0));
      }),
    ),
  );
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
  };
  await writeModelMeta(client, model, meta);

  const vocab = await timed('vocab', () => assignVocab(client, model));
  const progress = (phase: string) => (done: number) => opts.onProgress?.(phase, done);
  const parts = await timed('adjust', () => perActor(client, (forks, onProgress) => adjustStats(client, model, order, forks, { onProgress }), progress('adjust')));
  const countsOfCounts = sumCountsOfCounts(order, parts);
  const discounts = estimateDiscounts(countsOfCounts, order, opts.discountFallback);

  const counts: number[] = [];
  for (let k = 1; k <= order; k++) {
    const phase = `interpolate ${k}`;
    const written = await timed(phase, () => perActor(client, (forks, onProgress) => interpolateOrder(client, model, k, discounts, vocab, forks, { onProgress }), progress(phase)));
    counts.push(written.reduce((s, n) => s + n, 0));
  }

  Object.assign(meta, { complete: true, vocabSize: vocab.size, counts, discounts: orderDiscounts(discounts) });
  await writeModelMeta(client, model, meta);
  return { vocabSize: vocab.size, counts, discounts: meta.discounts, countsOfCounts, phaseMs };
}
