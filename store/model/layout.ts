// The model in the store: the keys and values a backoff language model is kept as, defined once
// for every writer (`dbslm store import`, the pipeline's materialise stage) and every reader
// (`ppl --connect`, `export`, the generator). Pure encodings, no IO; store/README.md "The model in
// the store" is the table of it.
//
// A model has a name; each of its kinds of data is one namespace `<model>.<kind>`:
//
//   <model>.meta   routing prefix: empty          rest: empty      value: ModelMeta (Avro, schemas/model_meta.ts)
//   <model>.vocab  routing prefix: u32(id >> 12)  rest: u32(id)    value: the word, UTF-8
//   <model>.word   routing prefix: the word       rest: empty      value: u32(id)
//   <model>.p      routing prefix: u32 per context word (none for unigrams)
//                                                 rest: u32(word)  value: f64le log10 p | f64le log10 backoff
//   <model>.topk   routing prefix: u32 per context word (none for the empty context)
//                                                 rest: empty      value: the context's Top-K head
//
// A head is up to K entries, best first (model/topk.ts): u32(word) | code, the code u8 when the
// meta's topk.bits <= 8, else u16 little-endian; the code's value is topk.centers[code] in the
// meta. Every context with followers of its own has a head; a context without one is served by its
// nearest suffix's (store/model/topk/read_head.ts). While the heads are built (meta incomplete),
// entries are u32(word) | f32le exact log10 p instead, so the next order can re-weight them.
//
// u32 is big-endian, so keys sort by id. All followers of a context share one routing prefix: one
// ordered range in one fork, read with one scan. The vocabulary goes in blocks of 4096 ids, spread
// over forks and read with a few scans. The routing hash covers the namespace too, so a context's
// head is not in the fork of its followers: its builders read and write it with batched requests.
// The training pipeline's
// statistics are `<model>.stat1` ... `<model>.statN` (stat_keys.ts; kind stat) and its runs
// `<model>.run` (training_run.ts).
import { InputError } from '../../model/errors.js';
import { MetaLayoutType, ModelMetaType, ModelMetaWithoutTopKType, type ModelMeta } from '../../schemas/model_meta.js';
import { hash32, makeKey, rangePrefix, ROUTING_BYTES } from '../protocol/keys.js';

/** The layout this module writes and reads; a reader refuses a meta of another layout. */
export const MODEL_LAYOUT = 1;
export const DEFAULT_MODEL = 'default';
/** Ids per `<model>.vocab` routing prefix (2^12). */
export const VOCAB_BLOCK_BITS = 12;
/** Bytes of an n-gram value: log10 p and log10 backoff, float64 little-endian each. */
export const NGRAM_VALUE_BYTES = 16;

/** Every kind of data a model may have in the store, the reserved ones included (a replace deletes them all). */
export const MODEL_KINDS = ['meta', 'vocab', 'word', 'p', 'topk', 'concept', 'stat', 'run'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;
const EMPTY = Buffer.alloc(0);

/** Throws (an input error: names come from users) unless `name` can name a model: letters, digits, `_ . -`, at most 100, not starting with `.` or `-`. */
export function checkModelName(name: string): string {
  if (!NAME_RE.test(name)) throw new InputError(`model name ${JSON.stringify(name)} is not valid`, undefined, undefined, 'use letters, digits, _ . - (at most 100, starting with a letter, digit or _)');
  return name;
}

/** The namespace of one kind of a model's data. */
export function modelNamespace(model: string, kind: ModelKind): string {
  return `${checkModelName(model)}.${kind}`;
}

function u32(id: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(id, 0);
  return b;
}

// ---- meta

export function metaKey(model: string): Buffer {
  return makeKey(modelNamespace(model, 'meta'), EMPTY);
}

export function encodeMeta(meta: ModelMeta): Buffer {
  return ModelMetaType.toBuffer(meta);
}

export function decodeMeta(value: Buffer, model: string): ModelMeta {
  const { value: head } = MetaLayoutType.decode(value, 0) as { value: { layout: number } | undefined };
  if (!head) throw new Error(`the meta value of model ${model} (${value.length} bytes) does not decode`);
  if (head.layout !== MODEL_LAYOUT) throw new Error(`model ${model} is stored in layout ${head.layout}; this dbslm reads layout ${MODEL_LAYOUT} (upgrade dbslm, or re-import the model)`);
  const current = ModelMetaType.decode(value, 0) as { value: ModelMeta | undefined; offset: number };
  if (current.value && current.offset === value.length) return current.value;
  // A meta written before the `topk` field: the same record less its last field.
  return { ...(ModelMetaWithoutTopKType.fromBuffer(value) as Omit<ModelMeta, 'topk'>), topk: null };
}

// ---- vocabulary: id -> word, routed by blocks of ids

export function vocabBlockOf(id: number): number {
  return Math.floor(id / 2 ** VOCAB_BLOCK_BITS);
}

export function vocabKey(model: string, id: number): Buffer {
  return makeKey(modelNamespace(model, 'vocab'), u32(vocabBlockOf(id)), u32(id));
}

/** The range prefix of one block of ids: scan it for those ids' words in id order. */
export function vocabBlockPrefix(model: string, block: number): Buffer {
  return rangePrefix(modelNamespace(model, 'vocab'), u32(block));
}

/** The id of a `<model>.vocab` key: its last 4 bytes. */
export function vocabIdOfKey(key: Buffer): number {
  return key.readUInt32BE(key.length - 4);
}

// ---- word -> id, routed by the word

export function wordKey(model: string, word: string): Buffer {
  return makeKey(modelNamespace(model, 'word'), Buffer.from(word, 'utf8'));
}

export function encodeWordId(id: number): Buffer {
  return u32(id);
}

export function decodeWordId(value: Buffer): number {
  if (value.length !== 4) throw new Error(`a word id value has ${value.length} bytes; the layout has 4 (u32 big-endian)`);
  return value.readUInt32BE(0);
}

// ---- n-grams: routed by the context, one key per n-gram

/** The range prefix of a context's followers (empty context: the unigrams). Keys of its n-grams are this + u32(word). */
export function contextPrefix(model: string, context: ArrayLike<number>): Buffer {
  const ids = Buffer.allocUnsafe(4 * context.length);
  for (let i = 0; i < context.length; i++) ids.writeUInt32BE(context[i]!, 4 * i);
  return rangePrefix(modelNamespace(model, 'p'), ids);
}

/**
 * contextPrefix of one model with its namespace encoded once and the bytes written in one
 * allocation: the smoothing builds two per context range (its own and its lower order's).
 */
export class ContextPrefixes {
  private readonly ns: Buffer;
  /** `kind` 'topk': the same bytes in `<model>.topk` are topkKey (a head's key is its context's range prefix). */
  constructor(model: string, kind: 'p' | 'topk' = 'p') {
    this.ns = Buffer.from(modelNamespace(model, kind), 'utf8');
  }

  /** contextPrefix(model, context.slice(from, to)). */
  of(context: ArrayLike<number>, from = 0, to = context.length): Buffer {
    const words = to - from;
    const routed = this.ns.length + 1 + 4 * words;
    const head = ROUTING_BYTES + 2;
    const out = Buffer.allocUnsafe(head + routed);
    let at = head + this.ns.copy(out, head);
    out[at++] = 0;
    for (let i = from; i < to; i++, at += 4) out.writeUInt32BE(context[i]!, at);
    out.writeUInt32BE(hash32(out, head, at), 0);
    out.writeUInt16BE(routed, ROUTING_BYTES);
    return out;
  }
}

/** The key of the n-gram (context, word), given contextPrefix(model, context). */
export function ngramKeyAt(contextRange: Buffer, word: number): Buffer {
  const key = Buffer.allocUnsafe(contextRange.length + 4);
  contextRange.copy(key, 0);
  key.writeUInt32BE(word, contextRange.length);
  return key;
}

export function ngramKey(model: string, ids: ArrayLike<number>): Buffer {
  const context = Array.from({ length: ids.length - 1 }, (_, i) => ids[i]!);
  return ngramKeyAt(contextPrefix(model, context), ids[ids.length - 1]!);
}

/**
 * Reads `<model>.p` keys without allocating: `orderOf` gives the n-gram's order, `idsOf` its word
 * ids, first word first. `nsBytes` is the UTF-8 length of the namespace `<model>.p`.
 */
export class NgramKeyReader {
  private readonly idsStart: number;
  constructor(private readonly nsBytes: number) {
    this.idsStart = ROUTING_BYTES + 2 + nsBytes + 1;
  }

  /** The length of the keys of the n-grams of `order`. */
  keyBytesOf(order: number): number {
    return this.idsStart + 4 * order;
  }

  orderOf(key: Buffer): number {
    const prefixBytes = key.readUInt16BE(ROUTING_BYTES) - this.nsBytes - 1;
    if (prefixBytes < 0 || prefixBytes % 4 !== 0 || key.length !== this.idsStart + prefixBytes + 4) {
      throw new Error(`key 0x${key.toString('hex')} is not an n-gram key of the model layout (context of u32 ids, then a u32 word)`);
    }
    return prefixBytes / 4 + 1;
  }

  /** Writes the order-k n-gram's ids into out[at .. at + k). */
  idsOf(key: Buffer, k: number, out: Uint32Array, at: number): void {
    for (let i = 0; i < k; i++) out[at + i] = key.readUInt32BE(this.idsStart + 4 * i);
  }
}

export function encodeNgramValue(logProb: number, backoff: number): Buffer {
  const b = Buffer.allocUnsafe(NGRAM_VALUE_BYTES);
  b.writeDoubleLE(logProb, 0);
  b.writeDoubleLE(backoff, 8);
  return b;
}

export function decodeNgramValue(value: Buffer): { logProb: number; backoff: number } {
  if (value.length !== NGRAM_VALUE_BYTES) throw new Error(`an n-gram value has ${value.length} bytes; the layout has ${NGRAM_VALUE_BYTES} (f64le log10 p, f64le log10 backoff)`);
  return { logProb: value.readDoubleLE(0), backoff: value.readDoubleLE(8) };
}

// ---- Top-K heads: one key per context with followers

export function topkKey(model: string, context: ArrayLike<number>): Buffer {
  const ids = Buffer.allocUnsafe(4 * context.length);
  for (let i = 0; i < context.length; i++) ids.writeUInt32BE(context[i]!, 4 * i);
  return makeKey(modelNamespace(model, 'topk'), ids);
}

/** The context ids of a `<model>.topk` key; `nsBytes` is the UTF-8 length of the namespace `<model>.topk`. */
export function topkContextOfKey(key: Buffer, nsBytes: number): number[] {
  const start = ROUTING_BYTES + 2 + nsBytes + 1;
  const bytes = key.readUInt16BE(ROUTING_BYTES) - nsBytes - 1;
  if (bytes < 0 || bytes % 4 !== 0 || key.length !== start + bytes) throw new Error(`key 0x${key.toString('hex')} is not a Top-K head key of the model layout (a context of u32 ids)`);
  return Array.from({ length: bytes / 4 }, (_, i) => key.readUInt32BE(start + 4 * i));
}

/** Bytes of one head entry's code. */
export function topkCodeBytes(bits: number): number {
  return bits <= 8 ? 1 : 2;
}

/** A head as stored: words best first and their codes. */
export function encodeTopkHead(words: ArrayLike<number>, codes: ArrayLike<number>, bits: number): Buffer {
  const cb = topkCodeBytes(bits);
  const b = Buffer.allocUnsafe(words.length * (4 + cb));
  for (let i = 0; i < words.length; i++) {
    b.writeUInt32BE(words[i]!, i * (4 + cb));
    if (cb === 1) b.writeUInt8(codes[i]!, i * 5 + 4);
    else b.writeUInt16LE(codes[i]!, i * 6 + 4);
  }
  return b;
}

export function decodeTopkHead(value: Buffer, bits: number): { words: number[]; codes: number[] } {
  const size = 4 + topkCodeBytes(bits);
  if (value.length % size !== 0) throw new Error(`a Top-K head has ${value.length} bytes; the layout has ${size} per entry (u32 word, ${size - 4 === 1 ? 'u8' : 'u16le'} code)`);
  const words: number[] = [];
  const codes: number[] = [];
  for (let at = 0; at < value.length; at += size) {
    words.push(value.readUInt32BE(at));
    codes.push(size === 5 ? value.readUInt8(at + 4) : value.readUInt16LE(at + 4));
  }
  return { words, codes };
}

/** A head while the heads are built: words best first and their exact values (float32). */
export function encodeExactHead(words: ArrayLike<number>, values: ArrayLike<number>): Buffer {
  const b = Buffer.allocUnsafe(words.length * 8);
  for (let i = 0; i < words.length; i++) {
    b.writeUInt32BE(words[i]!, i * 8);
    b.writeFloatLE(values[i]!, i * 8 + 4);
  }
  return b;
}

/** Entries of a head being built (entry i: u32 word at 8i, f32le value at 8i + 4); throws on a value of another size. */
export function exactHeadEntries(value: Buffer): number {
  if (value.length % 8 !== 0) throw new Error(`a Top-K head being built has ${value.length} bytes; it has 8 per entry (u32 word, f32le log10 p): were the heads built by another writer at once?`);
  return value.length / 8;
}

export function decodeExactHead(value: Buffer): { words: number[]; values: number[] } {
  exactHeadEntries(value);
  const words: number[] = [];
  const values: number[] = [];
  for (let at = 0; at < value.length; at += 8) {
    words.push(value.readUInt32BE(at));
    values.push(value.readFloatLE(at + 4));
  }
  return { words, values };
}
