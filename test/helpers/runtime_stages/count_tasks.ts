// The piscina task module of the runtime's test count stage: statOpsOf over one batch.
import type { CountBatch, SentenceBatch } from '../../../schemas/pipeline.js';
import { statOpsOf } from '../../../store/model/stat_ops.js';

export function countBatch({ model, order, batch }: { model: string; order: number; batch: SentenceBatch }): CountBatch {
  const sentences = batch.sentences.map((s) => ({ tokens: s.tokens, eos: s.eos, position: { generation: batch.generation, input: batch.input, line: s.offset } }));
  const ops = statOpsOf(model, order, sentences);
  return { generation: batch.generation, input: batch.input, offset: batch.offset, incrs: ops.incrs, sets: ops.sets, words: ops.words, sentences: batch.sentences.length, lines: batch.lines, bad: batch.bad };
}
