// The stages' piscina task module: one named export per task, plain data in and out. The runtime
// runs a task with pool.run(input, { name }); tests call these functions directly as `compute`.
// Results travel by structured clone, which turns Buffers into Uint8Arrays and would copy each
// key's backing memory separately, so keys are packed into one byte array with their lengths (and
// stay packed: the count stage emits them so, as a PackedCountBatch).
import { statOpsOf } from '../store/model/stat_ops.js';

export interface CountBatchInput {
  model: string;
  order: number;
  generation: number;
  input: number;
  sentences: { offset: number; tokens: string[]; eos: boolean }[];
}

/** StatOps (store/model/stat_ops.ts) packed: the keys of incrs, then of sets, back to back. */
export interface PackedStatOps {
  keys: Uint8Array;
  /** Byte length of each key, incrs' first. */
  lengths: Uint32Array;
  /** One per incr, in order. */
  deltas: number[];
  words: number;
}

/** Counts one batch of sentences: the store writes of its n-grams (position line = the sentence's byte offset). */
export function countBatch(input: CountBatchInput): PackedStatOps {
  const sentences = input.sentences.map((s) => ({ tokens: s.tokens, eos: s.eos, position: { generation: input.generation, input: input.input, line: s.offset } }));
  const ops = statOpsOf(input.model, input.order, sentences);
  const all = [...ops.incrs.map((i) => i.key), ...ops.sets];
  return { keys: Buffer.concat(all), lengths: Uint32Array.from(all, (k) => k.length), deltas: ops.incrs.map((i) => i.delta), words: ops.words };
}
