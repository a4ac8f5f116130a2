// The stages' piscina task module: one named export per task, plain data in and out. The runtime
// runs a task with pool.run(input, { name }); tests call these functions directly as `compute`.
// Results travel by structured clone, which turns Buffers into Uint8Arrays and would copy each
// key's backing memory separately, so keys are packed into one byte array with their lengths (and
// stay packed: the count stage emits them so, as a PackedCountBatch).
import { packedStatOpsOf } from '../store/model/stat_ops.js';

export interface CountBatchInput {
  model: string;
  order: number;
  generation: number;
  input: number;
  sentences: { offset: number; tokens: string[]; eos: boolean }[];
}

/** store/model/stat_ops.ts PackedStatOps as it comes back from the pool: its keys a plain Uint8Array. */
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
  return packedStatOpsOf(input.model, input.order, sentences);
}
