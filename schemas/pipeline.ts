// The messages between pipeline stages, each a TypeScript type beside its Avro schema. On the wire
// every message is a StageMessage envelope naming its type and schema version; a stage actor
// refuses a type or version it does not know, with an error naming both (decodeStageMessage).
//
// Batches carry where their text came from, (generation, input, offset): that position names the
// batch for exactly-once writes (its store producer id, batchProducer) and for checkpoints.
import { avroType, decodeAs } from './command.js';

/** Where a batch starts: the run generation, the input's index, the byte offset of its first line (text) or record (NDJSON) in the input (for *.gz, in the uncompressed stream). */
export interface BatchOrigin {
  generation: number;
  input: number;
  offset: number;
}

const originFields = [
  { name: 'generation', type: 'int' },
  { name: 'input', type: 'int' },
  { name: 'offset', type: 'long' },
];

/** A corpus line that could not be used: skipped and counted, or fatal with `strict`. */
export interface BadLine {
  /** The file and 1-based line, `file:line`. */
  where: string;
  reason: string;
}
const BadLineType = avroType({ type: 'record', name: 'dbslm.pipeline.BadLine', fields: [{ name: 'where', type: 'string' }, { name: 'reason', type: 'string' }] });

/** What `read` is given: one input file to read in batches (stages/read.ts listReadTasks makes them from the definition's inputs). */
export interface ReadTask {
  generation: number;
  /** The input's index in the run's input list (a directory's files count one by one, in name order). */
  input: number;
  /** Absolute path of the file, or `-` for standard input. */
  path: string;
  /** The path as the definition wrote it, for messages. */
  written: string;
  format: 'text' | 'ndjson';
  /** NDJSON: the dataset config's path (absolute); null for text. */
  config: string | null;
  /** Lines per batch: batch k holds lines k*batch .. (k+1)*batch-1, so the same file gives the same batch offsets. */
  batch: number;
  /** Batch offsets already committed: read past them without emitting them (resume). */
  skip: number[];
  /** When not null, emit only the batches at these offsets (redelivery after a crash). */
  only: number[] | null;
}
export const ReadTaskType = avroType({
  type: 'record',
  name: 'dbslm.pipeline.ReadTask',
  fields: [
    { name: 'generation', type: 'int' },
    { name: 'input', type: 'int' },
    { name: 'path', type: 'string' },
    { name: 'written', type: 'string' },
    { name: 'format', type: { type: 'enum', name: 'dbslm.pipeline.ReadFormat', symbols: ['text', 'ndjson'] } },
    { name: 'config', type: ['null', 'string'], default: null },
    { name: 'batch', type: 'int' },
    { name: 'skip', type: { type: 'array', items: 'long' } },
    { name: 'only', type: ['null', { type: 'array', items: 'long' }], default: null },
  ],
});

/** What `read` emits: raw lines (text) or raw records (NDJSON), decoded as UTF-8. */
export interface LineBatch extends BatchOrigin {
  /** The input's path as the definition wrote it, for messages. */
  file: string;
  format: 'text' | 'ndjson';
  /** NDJSON: the dataset config's path (absolute). */
  config: string | null;
  lines: { offset: number; line: number; text: string }[];
  /** Whether the last line of the batch is the input's last and had no final newline (it gets no </s>). */
  lastUnterminated: boolean;
  bad: BadLine[];
}
export const LineBatchType = avroType({
  type: 'record',
  name: 'dbslm.pipeline.LineBatch',
  fields: [
    ...originFields,
    { name: 'file', type: 'string' },
    { name: 'format', type: { type: 'enum', name: 'dbslm.pipeline.InputFormat', symbols: ['text', 'ndjson'] } },
    { name: 'config', type: ['null', 'string'], default: null },
    {
      name: 'lines',
      type: { type: 'array', items: { type: 'record', name: 'dbslm.pipeline.Line', fields: [{ name: 'offset', type: 'long' }, { name: 'line', type: 'long' }, { name: 'text', type: 'string' }] } },
    },
    { name: 'lastUnterminated', type: 'boolean' },
    { name: 'bad', type: { type: 'array', items: BadLineType } },
  ],
});

/** What `split` emits: sentences as tokens (without <s> and </s>), framed as the dataset says. */
export interface SentenceBatch extends BatchOrigin {
  file: string;
  sentences: { offset: number; tokens: string[]; eos: boolean }[];
  /** Lines read (good and bad), for progress. */
  lines: number;
  bad: BadLine[];
}
export const SentenceBatchType = avroType({
  type: 'record',
  name: 'dbslm.pipeline.SentenceBatch',
  fields: [
    ...originFields,
    { name: 'file', type: 'string' },
    {
      name: 'sentences',
      type: {
        type: 'array',
        items: { type: 'record', name: 'dbslm.pipeline.Sentence', fields: [{ name: 'offset', type: 'long' }, { name: 'tokens', type: { type: 'array', items: 'string' } }, { name: 'eos', type: 'boolean' }] },
      },
    },
    { name: 'lines', type: 'long' },
    { name: 'bad', type: { type: 'array', items: BadLineType } },
  ],
});

/** What `count` emits: the store writes of one batch (store/model/stat_ops.ts), applied exactly once under batchProducer(origin). */
export interface CountBatch extends BatchOrigin {
  incrs: { key: Buffer; delta: number }[];
  sets: Buffer[];
  words: number;
  sentences: number;
  lines: number;
  bad: BadLine[];
}
/**
 * What `count` emits in memory: a CountBatch with its keys packed back to back in one Buffer (as
 * the compute pool returns them), the first `deltas.length` the increments, the rest the sets. A
 * batch holds ~10^5 keys; a Buffer object per key cost the count actor most of its memory and its
 * garbage collection. The store sink packs them per fork from the bytes; CountBatch (below) is its
 * message form, made only for `pipeline tap` (countBatchMessage).
 */
export interface PackedCountBatch extends BatchOrigin {
  keys: Buffer;
  /** Byte length of each key, in order. */
  lengths: Uint32Array;
  /** One per increment: the keys' first deltas.length. */
  deltas: number[];
  words: number;
  sentences: number;
  lines: number;
  bad: BadLine[];
}

/** The CountBatch message of a packed batch (keys as views of its bytes). */
export function countBatchMessage(p: PackedCountBatch): CountBatch {
  const incrs: CountBatch['incrs'] = [];
  const sets: Buffer[] = [];
  for (let i = 0, at = 0; i < p.lengths.length; at += p.lengths[i++]!) {
    const key = p.keys.subarray(at, at + p.lengths[i]!);
    if (i < p.deltas.length) incrs.push({ key, delta: p.deltas[i]! });
    else sets.push(key);
  }
  return { generation: p.generation, input: p.input, offset: p.offset, incrs, sets, words: p.words, sentences: p.sentences, lines: p.lines, bad: p.bad };
}

export const CountBatchType = avroType({
  type: 'record',
  name: 'dbslm.pipeline.CountBatch',
  fields: [
    ...originFields,
    { name: 'incrs', type: { type: 'array', items: { type: 'record', name: 'dbslm.pipeline.Incr', fields: [{ name: 'key', type: 'bytes' }, { name: 'delta', type: 'long' }] } } },
    { name: 'sets', type: { type: 'array', items: 'bytes' } },
    { name: 'words', type: 'long' },
    { name: 'sentences', type: 'long' },
    { name: 'lines', type: 'long' },
    { name: 'bad', type: { type: 'array', items: BadLineType } },
  ],
});

/**
 * The store producer id of a batch's writes: the same batch, redelivered or re-read after a resume,
 * is applied once. `run` names the training run (store/model/training_run.ts startedMs): the same
 * across a resume, new after a reset, so a reset model's batches are never taken for duplicates of
 * the deleted ones (the actors keep dedup records).
 */
export function batchProducer(model: string, origin: BatchOrigin, run = 0): string {
  return `pipeline:${model}:r${run}:g${origin.generation}:i${origin.input}:o${origin.offset}`;
}

/** Every message type a stage sends, by name, with its current schema version. */
export const STAGE_MESSAGES = {
  ReadTask: { version: 1, type: ReadTaskType },
  LineBatch: { version: 1, type: LineBatchType },
  SentenceBatch: { version: 1, type: SentenceBatchType },
  CountBatch: { version: 1, type: CountBatchType },
} as const;
export type StageMessageName = keyof typeof STAGE_MESSAGES;

export const StageMessageType = avroType({
  type: 'record',
  name: 'dbslm.pipeline.StageMessage',
  fields: [
    { name: 'type', type: 'string' },
    { name: 'version', type: 'int' },
    { name: 'body', type: 'bytes' },
  ],
});

export function encodeStageMessage(name: StageMessageName, value: unknown): Buffer {
  const { version, type } = STAGE_MESSAGES[name];
  return StageMessageType.toBuffer({ type: name, version, body: type.toBuffer(value) });
}

/** Decodes a message of any known type; throws naming the type and version when it is not one this dbslm reads. */
export function decodeStageMessage(bytes: Buffer): { name: StageMessageName; value: unknown } {
  const envelope = decodeAs<{ type: string; version: number; body: Buffer }>(StageMessageType, bytes, 'stage message envelope');
  const known = (STAGE_MESSAGES as Record<string, { version: number; type: import('avsc').Type }>)[envelope.type];
  if (!known) throw new Error(`unknown stage message type ${JSON.stringify(envelope.type)} (this dbslm reads ${Object.keys(STAGE_MESSAGES).join(', ')}); are all hosts running the same dbslm version?`);
  if (envelope.version !== known.version) {
    throw new Error(`stage message ${envelope.type} has schema version ${envelope.version}; this dbslm reads version ${known.version}: run the same dbslm version on every host`);
  }
  return { name: envelope.type as StageMessageName, value: decodeAs(known.type, envelope.body, `${envelope.type} v${envelope.version}`) };
}
