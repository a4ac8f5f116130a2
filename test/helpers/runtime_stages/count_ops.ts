// Test stage for the runtime: SentenceBatch -> CountBatch through compute('countBatch') on the
// actor's piscina pool (count_tasks.ts), a few batches at once.
import { mergeMap } from 'rxjs';
import type { CountBatch, SentenceBatch } from '../../../schemas/pipeline.js';
import type { Compute, Stage } from '../../../stages/stage.js';

/** Piscina hands Buffers back as plain Uint8Arrays: make them Buffers again. */
const asBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

export function createStage(config: { model: string; order: number }, compute: Compute): Stage<SentenceBatch, CountBatch> {
  return mergeMap(async (batch: SentenceBatch) => {
    const out = await compute<unknown, CountBatch>('countBatch', { model: config.model, order: config.order, batch });
    return { ...out, incrs: out.incrs.map((i) => ({ key: asBuffer(i.key), delta: i.delta })), sets: out.sets.map(asBuffer) };
  }, 4);
}
