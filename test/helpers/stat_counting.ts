// Counting a text into a model's `<model>.stat` as the pipeline's count stage does: the text split
// into sentences exactly as model/corpus_read.ts readWhitespace splits it (space, tab, CR and NUL
// separate words; a last line without a final newline gets no </s>), batches of lines turned into
// store ops by statOpsOf, each batch written exactly once under its batchProducer id.
import { batchProducer } from '../../schemas/pipeline.js';
import type { ClientOp, StoreClient } from '../../store/client/client.js';
import { statOpsOf, type CountedSentence } from '../../store/model/stat_ops.js';

export interface CountingBatch {
  /** Byte offset of the batch's first line. */
  offset: number;
  sentences: CountedSentence[];
}

/** The sentences of `text` in batches of `linesPerBatch` lines, positions at generation 1, input 0. */
export function sentenceBatches(text: string, linesPerBatch = 1000): CountingBatch[] {
  const bytes = Buffer.from(text, 'utf8');
  const batches: CountingBatch[] = [];
  let batch: CountingBatch | undefined;
  for (let start = 0; start < bytes.length; ) {
    const nl = bytes.indexOf(10, start);
    const end = nl < 0 ? bytes.length : nl;
    const tokens = bytes.toString('utf8', start, end).split(/[ \t\r\0]+/).filter((w) => w !== '');
    if (!batch || batch.sentences.length === linesPerBatch) batches.push((batch = { offset: start, sentences: [] }));
    batch.sentences.push({ tokens, eos: nl >= 0, position: { generation: 1, input: 0, line: start } });
    start = end + 1;
  }
  return batches;
}

/** The store ops of one batch: RAW increments and LEFT/FIRST marks, as the pipeline writes them. */
export function batchOps(model: string, order: number, batch: CountingBatch): ClientOp[] {
  const { incrs, sets } = statOpsOf(model, order, batch.sentences);
  return [...incrs.map(({ key, delta }) => ({ op: 'incr' as const, key, delta })), ...sets.map((key) => ({ op: 'mark' as const, key }))];
}

/** Counts `text` into `model`'s statistics; `times` > 1 resends every batch (a redelivery). */
export async function countText(client: StoreClient, model: string, order: number, text: string, times = 1): Promise<void> {
  const batches = sentenceBatches(text);
  for (let round = 0; round < times; round++) {
    for (const batch of batches) {
      await client.batchAs(batchProducer(model, { generation: 1, input: 0, offset: batch.offset }), batchOps(model, order, batch));
    }
  }
}
