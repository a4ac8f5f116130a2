// Test stage for the runtime: SentenceBatch -> PackedCountBatch through compute('countBatch') on
// the actor's piscina pool (count_tasks.ts), a few batches at once.
import { mergeMap } from 'rxjs';
import type { PackedCountBatch, SentenceBatch } from '../../../schemas/pipeline.js';
import type { Compute, Stage } from '../../../stages/stage.js';
import type { countBatch } from './count_tasks.js';

export function createStage(config: { model: string; order: number }, compute: Compute): Stage<SentenceBatch, PackedCountBatch> {
  return mergeMap(async (batch: SentenceBatch) => {
    const out = await compute<unknown, ReturnType<typeof countBatch>>('countBatch', { model: config.model, order: config.order, batch });
    // Piscina hands Buffers back as plain Uint8Arrays: make the keys a Buffer again.
    return { ...out, keys: Buffer.from(out.keys.buffer, out.keys.byteOffset, out.keys.byteLength) };
  }, 4);
}
