// The training statistics of a model in the store: what the pipeline's count stage writes and its
// smooth and materialise stages read. One namespace per order of the followers, `<model>.statK`
// (K = 1..N), routed by the CONTEXT, so that everything modified Kneser-Ney needs about the
// followers of one context h lies in one ordered range of one fork, and a pass over one order
// (smoothing goes order by order) reads that order's rows only:
//
//   routing prefix: each context word's UTF-8 followed by 0x00 (empty for the unigrams)
//   rest:           the follower w's UTF-8, 0x00, then a tag:
//     RAW   0x01             counter: occurrences of hw (written for the highest order and for
//                            n-grams starting with <s>, the ones whose adjusted count is raw)
//     LEFT  0x02 | v         empty value: the word v was seen before hw (v hw occurred); the number
//                            of LEFT keys of hw is its continuation count, without any counter, so
//                            rewriting one (a redelivered batch) changes nothing
//     STATS 0x03             the follower statistics of hw as a context (contextStats below),
//                            written by the smoothing of hw's own range: its backoff's inputs
//     FIRST 0x04 | position  unigrams only, empty value: a position where w occurred; the least
//                            key is the first appearance, which fixes the word's id (as in-process
//                            `build` numbers words by first appearance)
//
// Words are the tokenizer's output and never contain NUL, so `w 0x00` ends a word unambiguously and
// the keys of one follower are contiguous, in tag order. Word strings (not ids) are in the keys so
// count workers need no shared vocabulary; ids are fixed once, at materialise (layout.ts).
import { hash32, makeKey, MAX_KEY_BYTES, parseKey, rangePrefix, ROUTING_BYTES } from '../protocol/keys.js';
import { checkModelName } from './layout.js';

export const TAG_RAW = 0x01;
export const TAG_LEFT = 0x02;
export const TAG_STATS = 0x03;
export const TAG_FIRST = 0x04;

/** Bytes of a FIRST position: u16 generation, u16 input, u64 line (byte offset or record number), u32 token; all big-endian so keys sort by position. */
export const POSITION_BYTES = 16;

/** Bytes of a STATS value: float64le s (sum of adjusted counts), n1, n2, n3+ (followers with adjusted count 1, 2, 3+). */
export const STATS_BYTES = 32;

/** The namespace of the statistics of the order-`order` n-grams (followers of (order - 1)-word contexts). */
export function statNamespace(model: string, order: number): string {
  if (!(Number.isInteger(order) && order >= 1)) throw new Error(`a statistics namespace needs an order >= 1, got ${order}`);
  return `${checkModelName(model)}.stat${order}`;
}

/** The leading bytes every statistics namespace of `model` shares: a family scan of it reads every order in one pass. */
export function statFamily(model: string): string {
  return `${checkModelName(model)}.stat`;
}

/** Whether `ns` is one of `model`'s statistics namespaces. */
export function isStatNamespace(model: string, ns: string): boolean {
  return ns.startsWith(`${model}.stat`) && /^\d+$/.test(ns.slice(model.length + 5));
}

const NUL = 0;

/** Throws unless `word` can go in a key (no NUL; not empty). */
export function checkWord(word: string): void {
  if (word.length === 0 || word.includes('\0')) throw new Error(`word ${JSON.stringify(word)} cannot be stored: words are non-empty and contain no NUL`);
}

/** The routing prefix of a context: each word followed by 0x00. */
export function contextBytes(context: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const word of context) parts.push(Buffer.from(word, 'utf8'), Buffer.of(NUL));
  return Buffer.concat(parts);
}

/** The range of every follower of `context` (every key of that context, all tags). */
export function statContextRange(model: string, context: readonly string[]): Buffer {
  return rangePrefix(statNamespace(model, context.length + 1), contextBytes(context));
}

function followerRest(word: string, tag: number, extra?: Buffer): Buffer {
  const w = Buffer.from(word, 'utf8');
  const out = Buffer.allocUnsafe(w.length + 2 + (extra?.length ?? 0));
  w.copy(out, 0);
  out[w.length] = NUL;
  out[w.length + 1] = tag;
  extra?.copy(out, w.length + 2);
  return out;
}

/** RAW key of the n-gram `words` (context = all but the last). */
export function rawKey(model: string, words: readonly string[]): Buffer {
  return makeKey(statNamespace(model, words.length), contextBytes(words.slice(0, -1)), followerRest(words[words.length - 1]!, TAG_RAW));
}

/** LEFT key: `left` was seen before the n-gram `words`. */
export function leftKey(model: string, words: readonly string[], left: string): Buffer {
  return makeKey(statNamespace(model, words.length), contextBytes(words.slice(0, -1)), followerRest(words[words.length - 1]!, TAG_LEFT, Buffer.from(left, 'utf8')));
}

/** STATS key of the n-gram `words` as a context. */
export function statsKey(model: string, words: readonly string[]): Buffer {
  return makeKey(statNamespace(model, words.length), contextBytes(words.slice(0, -1)), followerRest(words[words.length - 1]!, TAG_STATS));
}

/**
 * Builds `<model>.stat` keys from words already in UTF-8, each in one allocation (key) or written
 * into the caller's buffer (write), with one hash: the count stage builds millions (makeKey,
 * general, allocates three times per key). The bytes are exactly
 * makeKey(statNamespace(model), contextBytes(context), word 0x00 tag extra).
 */
export class StatKeyBuilder {
  private readonly namespaces: Buffer[] = [];

  constructor(private readonly model: string) {}

  key(context: readonly Buffer[], word: Buffer, tag: number, extra?: Buffer): Buffer {
    const out = Buffer.allocUnsafe(this.size(context, 0, context.length, word, extra));
    this.write(out, 0, context, 0, context.length, word, tag, extra);
    return out;
  }

  /** Bytes of the key of (words[from..to) as the context, word, extra). */
  size(words: readonly Buffer[], from: number, to: number, word: Buffer, extra?: Buffer): number {
    let prefixBytes = 0;
    for (let i = from; i < to; i++) prefixBytes += words[i]!.length + 1;
    const total = ROUTING_BYTES + 2 + this.namespace(to - from + 1).length + 1 + prefixBytes + word.length + 2 + (extra?.length ?? 0);
    if (total > MAX_KEY_BYTES) throw new Error(`key is ${total} bytes; the limit is ${MAX_KEY_BYTES}`);
    return total;
  }

  /** Writes that key at out[at..] (room checked by the caller with size()); returns the bytes written. */
  write(out: Buffer, at: number, words: readonly Buffer[], from: number, to: number, word: Buffer, tag: number, extra?: Buffer): number {
    const start = at;
    const ns = this.namespace(to - from + 1);
    const head = at + ROUTING_BYTES + 2;
    at = head + ns.copy(out, head);
    out[at++] = NUL;
    for (let i = from; i < to; i++) {
      at += words[i]!.copy(out, at);
      out[at++] = NUL;
    }
    out.writeUInt32BE(hash32(out, head, at), start);
    out.writeUInt16BE(at - head, start + ROUTING_BYTES);
    at += word.copy(out, at);
    out[at++] = NUL;
    out[at++] = tag;
    if (extra) at += extra.copy(out, at);
    return at - start;
  }

  private namespace(order: number): Buffer {
    return (this.namespaces[order] ??= Buffer.from(statNamespace(this.model, order), 'utf8'));
  }
}

/**
 * The STATS key of a context given the context's routing prefix bytes (each word followed by
 * 0x00, as in its own range's keys): statsKey(model, words), built in one allocation without
 * decoding the words (the smoothing writes one per context).
 */
export function statsKeyOfPrefix(model: string, prefix: Buffer): Buffer {
  const words = prefix.reduce((n, b) => (b === NUL ? n + 1 : n), 0);
  if (words === 0 || prefix[prefix.length - 1] !== NUL) throw new Error(`0x${prefix.toString('hex')} is not a context's routing prefix (words each followed by 0x00)`);
  const ns = Buffer.from(statNamespace(model, words), 'utf8');
  const lastWord = prefix.lastIndexOf(NUL, prefix.length - 2) + 1;
  const routed = ns.length + 1 + lastWord;
  const head = ROUTING_BYTES + 2;
  const out = Buffer.allocUnsafe(head + ns.length + 1 + prefix.length + 1);
  let at = head + ns.copy(out, head);
  out[at++] = NUL;
  at += prefix.copy(out, at);
  out[at] = TAG_STATS;
  out.writeUInt32BE(hash32(out, head, head + routed), 0);
  out.writeUInt16BE(routed, ROUTING_BYTES);
  return out;
}

export interface Position {
  /** The training run that read the text (incremental runs add generations). */
  generation: number;
  /** Index of the input in the run's input list (a directory's files count one by one, in order). */
  input: number;
  /** Byte offset of the line (text) or record number (NDJSON) in that input. */
  line: number;
  /** Token index within the line's sentence. */
  token: number;
}

export function encodePosition(p: Position): Buffer {
  const b = Buffer.allocUnsafe(POSITION_BYTES);
  b.writeUInt16BE(p.generation, 0);
  b.writeUInt16BE(p.input, 2);
  b.writeBigUInt64BE(BigInt(p.line), 4);
  b.writeUInt32BE(p.token, 12);
  return b;
}

export function decodePosition(b: Buffer): Position {
  if (b.length !== POSITION_BYTES) throw new Error(`a position has ${b.length} bytes; the layout has ${POSITION_BYTES}`);
  return { generation: b.readUInt16BE(0), input: b.readUInt16BE(2), line: Number(b.readBigUInt64BE(4)), token: b.readUInt32BE(12) };
}

/** FIRST key: the unigram `word` occurred at `position`. */
export function firstKey(model: string, word: string, position: Position): Buffer {
  return makeKey(statNamespace(model, 1), Buffer.alloc(0), followerRest(word, TAG_FIRST, encodePosition(position)));
}

export interface ContextStats {
  /** Sum of the followers' adjusted counts. */
  total: number;
  n1: number;
  n2: number;
  n3plus: number;
}

export function encodeContextStats(s: ContextStats): Buffer {
  const b = Buffer.allocUnsafe(STATS_BYTES);
  b.writeDoubleLE(s.total, 0);
  b.writeDoubleLE(s.n1, 8);
  b.writeDoubleLE(s.n2, 16);
  b.writeDoubleLE(s.n3plus, 24);
  return b;
}

export function decodeContextStats(b: Buffer): ContextStats {
  if (b.length !== STATS_BYTES) throw new Error(`context stats have ${b.length} bytes; the layout has ${STATS_BYTES}`);
  return { total: b.readDoubleLE(0), n1: b.readDoubleLE(8), n2: b.readDoubleLE(16), n3plus: b.readDoubleLE(24) };
}

/** A `<model>.stat` key read back: the context, the follower, the tag and what follows it. */
export interface StatKey {
  context: string[];
  word: string;
  tag: number;
  /** LEFT: the left word's bytes; FIRST: the position's; else empty. */
  extra: Buffer;
}

export function decodeStatKey(key: Buffer): StatKey {
  const { prefix, rest } = parseKey(key);
  const context: string[] = [];
  const p = Buffer.from(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  for (let start = 0; start < p.length; ) {
    const end = p.indexOf(NUL, start);
    if (end < 0) throw new Error(`stat key 0x${key.toString('hex')}: its context does not end in 0x00`);
    context.push(p.toString('utf8', start, end));
    start = end + 1;
  }
  const r = Buffer.from(rest.buffer, rest.byteOffset, rest.byteLength);
  const end = r.indexOf(NUL);
  if (end < 1 || end + 1 >= r.length) throw new Error(`stat key 0x${key.toString('hex')}: its follower is not a word, 0x00 and a tag`);
  return { context, word: r.toString('utf8', 0, end), tag: r[end + 1]!, extra: r.subarray(end + 2) };
}
