// The piscina task module of the runtime's test count stage: the count stage's own task (statOpsOf
// over one batch, keys packed) with the batch's origin and counts around it.
import type { SentenceBatch } from '../../../schemas/pipeline.js';
import { countBatch as countSentences, type PackedStatOps } from '../../../stages/tasks.js';

export function countBatch({ model, order, batch }: { model: string; order: number; batch: SentenceBatch }): PackedStatOps & Omit<SentenceBatch, 'sentences' | 'file'> & { sentences: number } {
  const packed = countSentences({ model, order, generation: batch.generation, input: batch.input, sentences: batch.sentences });
  return { ...packed, generation: batch.generation, input: batch.input, offset: batch.offset, sentences: batch.sentences.length, lines: batch.lines, bad: batch.bad };
}
