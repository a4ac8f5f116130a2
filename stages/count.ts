// Stage `count`: SentenceBatch -> PackedCountBatch. Each batch's n-grams become store writes
// (store/model/stat_ops.ts statOpsOf, run as the `countBatch` task on the compute pool), emitted
// with the batch's origin, so the runtime applies them exactly once under batchProducer(origin).
// Several batches are counted at once; they come out in the order they finish, which is free:
// the writes of different batches commute (RAW adds, LEFT and FIRST are sets).
import { from, map, mergeMap } from 'rxjs';
import type { PackedCountBatch, SentenceBatch } from '../schemas/pipeline.js';
import type { Compute, Stage } from './stage.js';
import type { StageConfig } from './stage_config.js';
import type { CountBatchInput, PackedStatOps } from './tasks.js';

/** Batches counted at once when the config does not say: enough to keep a small pool busy. */
export const DEFAULT_COUNT_CONCURRENCY = 4;

export interface CountOptions {
  model: string;
  order: number;
  /** Batches in flight on the pool at once. */
  concurrency: number;
}

export function count(options: CountOptions, compute: Compute): Stage<SentenceBatch, PackedCountBatch> {
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new Error(`count: concurrency must be a whole number >= 1, got ${options.concurrency}`);
  return mergeMap((batch) => {
    const input: CountBatchInput = { model: options.model, order: options.order, generation: batch.generation, input: batch.input, sentences: batch.sentences };
    return from(compute<CountBatchInput, PackedStatOps>('countBatch', input)).pipe(
      map((packed): PackedCountBatch => {
        // Piscina returns Buffers as plain Uint8Arrays: a Buffer over the same bytes.
        const keys = Buffer.from(packed.keys.buffer, packed.keys.byteOffset, packed.keys.byteLength);
        return { generation: batch.generation, input: batch.input, offset: batch.offset, keys, lengths: packed.lengths, deltas: packed.deltas, words: packed.words, sentences: batch.sentences.length, lines: batch.lines, bad: batch.bad };
      }),
    );
  }, options.concurrency);
}

export function createStage(config: StageConfig, compute: Compute): Stage<SentenceBatch, PackedCountBatch> {
  return count({ model: config.model, order: config.order, concurrency: config.concurrency ?? DEFAULT_COUNT_CONCURRENCY }, compute);
}
