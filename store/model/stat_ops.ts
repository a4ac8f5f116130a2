// The store writes that count a batch of sentences (stat_keys.ts), aggregated over the batch: what
// the pipeline's count stage sends to the store actors. Pure: sentences in, ops out.
//
// Each sentence is <s> w1 ... wn </s> (no </s> for a last line without a final newline, as lmplz),
// and every n-gram of orders 1..N that ends in it and does not reach before its <s> is seen, as
// model/corpus_count.ts sees them. For each distinct such window W of order m:
//   - RAW += its occurrences when m = N or W starts with <s> (the n-grams whose adjusted count is
//     their count);
//   - LEFT (W[1..], W[0]) when m >= 2: W[0] precedes the lower-order n-gram W[1..];
// and each word's first position in the batch is a FIRST key. RAW increments must be applied
// exactly once (the runtime sends them as exactly-once batches); LEFT and FIRST are idempotent.
//
// The windows are counted in a trie of the batch, as corpus_count does for a corpus (each
// position extends the nodes that ended at the previous one), so an n-gram's key is built once per
// batch, not once per occurrence; keys are written back to back into one buffer (PackedStatOps).
import { BOS_TOKEN, EOS_TOKEN } from '../../model/vocab.js';
import { encodePosition, StatKeyBuilder, TAG_FIRST, TAG_LEFT, TAG_RAW, type Position } from './stat_keys.js';

export interface CountedSentence {
  /** The words, without <s> and </s>. */
  tokens: readonly string[];
  /** Whether the sentence ends with </s> (false only for a last line without a final newline). */
  eos: boolean;
  /** Where the sentence starts; token i of it is at { ...position, token: i }. */
  position: Omit<Position, 'token'>;
}

export interface StatOps {
  /** RAW counters to increase: apply each exactly once. */
  incrs: { key: Buffer; delta: number }[];
  /** LEFT and FIRST keys to set to the empty value (idempotent). */
  sets: Buffer[];
  /** Words counted (the sentences' tokens, without <s> and </s>). */
  words: number;
}

const ROOT = 0;
const BOS_ID = 0;
const EOS_ID = 1;

function slotOf(parent: number, word: number): number {
  let h = Math.imul(parent, 0x9e3779b1) ^ Math.imul(word, 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 12)) >>> 0;
}

/** The n-grams of one batch: node n is (parent[n], word[n]); ids are the batch's own. */
class BatchTrie {
  parent = new Int32Array(1 << 12);
  word = new Int32Array(1 << 12);
  order = new Uint8Array(1 << 12);
  count = new Float64Array(1 << 12);
  size = 1;
  /**
   * The child of (parent, word): an open-addressing table of node ids (0: empty, the root is no
   * child), kept at most half full. A Map keyed by parent * 2^20 + word was a third of the count
   * stage's time: its keys are beyond small integers, so each lookup hashed a heap number.
   */
  private slots = new Int32Array(1 << 13);

  /** The node of (parent, word), created if new; its count goes up by one. */
  see(parent: number, word: number): number {
    let mask = this.slots.length - 1;
    let i = slotOf(parent, word) & mask;
    for (let node = this.slots[i]!; node !== 0; node = this.slots[i]!) {
      if (this.parent[node] === parent && this.word[node] === word) {
        this.count[node]!++;
        return node;
      }
      i = (i + 1) & mask;
    }
    if (this.size === this.parent.length) this.grow();
    const node = this.size++;
    this.parent[node] = parent;
    this.word[node] = word;
    this.order[node] = this.order[parent]! + 1;
    this.count[node] = 1;
    if (2 * this.size > this.slots.length) {
      this.rehash();
      mask = this.slots.length - 1;
      for (i = slotOf(parent, word) & mask; this.slots[i] !== 0; i = (i + 1) & mask);
    }
    this.slots[i] = node;
    return node;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let node = 1; node < this.size - 1; node++) {
      let i = slotOf(this.parent[node]!, this.word[node]!) & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = node;
    }
    this.slots = slots;
  }

  /** The words of node n, first word first. */
  path(n: number, out: number[]): number[] {
    out.length = this.order[n]!;
    for (let i = out.length - 1; i >= 0; i--, n = this.parent[n]!) out[i] = this.word[n]!;
    return out;
  }

  private grow(): void {
    const size = this.parent.length * 2;
    const copy = <A extends Int32Array | Uint8Array | Float64Array>(a: A, b: A): A => (b.set(a), b);
    this.parent = copy(this.parent, new Int32Array(size));
    this.word = copy(this.word, new Int32Array(size));
    this.order = copy(this.order, new Uint8Array(size));
    this.count = copy(this.count, new Float64Array(size));
  }
}

/**
 * StatOps with the keys back to back in one Buffer, the increments' first (one delta each), then
 * the sets': what the count stage passes from its pool and on to the store, without a Buffer
 * object per key (a batch has ~10^5).
 */
export interface PackedStatOps {
  keys: Buffer;
  /** Byte length of each key, the increments' first. */
  lengths: Uint32Array;
  /** One per increment, in order. */
  deltas: number[];
  words: number;
}

/** Keys written back to back into one growing buffer. */
class PackedKeys {
  bytes = Buffer.allocUnsafe(1 << 20);
  at = 0;
  readonly lengths: number[] = [];

  constructor(private readonly builder: StatKeyBuilder) {}

  add(words: readonly Buffer[], from: number, to: number, word: Buffer, tag: number, extra?: Buffer): void {
    const size = this.builder.size(words, from, to, word, extra);
    if (this.at + size > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.bytes.length, this.at + size));
      this.bytes.copy(grown, 0, 0, this.at);
      this.bytes = grown;
    }
    this.at += this.builder.write(this.bytes, this.at, words, from, to, word, tag, extra);
    this.lengths.push(size);
  }
}

/** The store writes of a batch of sentences, packed (see the file comment). */
export function packedStatOpsOf(model: string, order: number, sentences: readonly CountedSentence[]): PackedStatOps {
  const ids = new Map<string, number>([
    [BOS_TOKEN, BOS_ID],
    [EOS_TOKEN, EOS_ID],
  ]);
  const spelled: Buffer[] = [Buffer.from(BOS_TOKEN), Buffer.from(EOS_TOKEN)];
  const first = new Map<number, Position>();
  const trie = new BatchTrie();
  let words = 0;
  let prev = new Int32Array(order + 1);
  let cur = new Int32Array(order + 1);
  const step = (w: number, inSentence: number) => {
    const top = Math.min(inSentence, order);
    cur[0] = ROOT;
    for (let k = 1; k <= top; k++) cur[k] = trie.see(prev[k - 1]!, w);
    [prev, cur] = [cur, prev];
  };
  for (const sentence of sentences) {
    words += sentence.tokens.length;
    step(BOS_ID, 1);
    sentence.tokens.forEach((token, i) => {
      let id = ids.get(token);
      if (id === undefined) {
        id = spelled.length;
        ids.set(token, id);
        spelled.push(Buffer.from(token, 'utf8'));
      }
      if (!first.has(id)) first.set(id, { ...sentence.position, token: i });
      step(id, i + 2);
    });
    if (sentence.eos) step(EOS_ID, sentence.tokens.length + 2);
  }

  const builder = new StatKeyBuilder(model);
  const incrs = new PackedKeys(builder);
  const sets = new PackedKeys(builder);
  const deltas: number[] = [];
  const path: number[] = [];
  const pathWords: Buffer[] = [];
  for (let n = 1; n < trie.size; n++) {
    const m = trie.order[n]!;
    trie.path(n, path);
    for (let i = 0; i < m; i++) pathWords[i] = spelled[path[i]!]!;
    const word = pathWords[m - 1]!;
    if (m === order || path[0] === BOS_ID) {
      incrs.add(pathWords, 0, m - 1, word, TAG_RAW);
      deltas.push(trie.count[n]!);
    }
    if (m >= 2) sets.add(pathWords, 1, m - 1, word, TAG_LEFT, pathWords[0]!);
  }
  for (const [id, position] of first) sets.add(pathWords, 0, 0, spelled[id]!, TAG_FIRST, encodePosition(position));
  const keys = Buffer.allocUnsafe(incrs.at + sets.at);
  incrs.bytes.copy(keys, 0, 0, incrs.at);
  sets.bytes.copy(keys, incrs.at, 0, sets.at);
  const lengths = new Uint32Array(incrs.lengths.length + sets.lengths.length);
  lengths.set(incrs.lengths);
  lengths.set(sets.lengths, incrs.lengths.length);
  return { keys, lengths, deltas, words };
}

/** packedStatOpsOf with a Buffer per key (views of the packed bytes). */
export function statOpsOf(model: string, order: number, sentences: readonly CountedSentence[]): StatOps {
  const packed = packedStatOpsOf(model, order, sentences);
  const incrs: StatOps['incrs'] = [];
  const sets: Buffer[] = [];
  for (let i = 0, at = 0; i < packed.lengths.length; at += packed.lengths[i++]!) {
    const key = packed.keys.subarray(at, at + packed.lengths[i]!);
    if (i < packed.deltas.length) incrs.push({ key, delta: packed.deltas[i]! });
    else sets.push(key);
  }
  return { incrs, sets, words: packed.words };
}
