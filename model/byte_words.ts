// Word ids looked up by the word's bytes, for the ARPA reader and the corpus reader
// (corpus_read.ts): 1.8M lines of an order-5 model name 7M words, and a string made of each to ask
// the vocabulary's Map cost more than the rest of the line. Open addressing over FNV-1a hashes of
// the bytes; a new word is added to the Vocab (decoded once) and to this index.
import type { Vocab } from './vocab.js';

const EMPTY = -1;

export class ByteWordIndex {
  /** The bytes of every word, back to back; word id w is arena[start[w], start[w] + length[w]). */
  private arena = new Uint8Array(1 << 16);
  private used = 0;
  private start: Int32Array = new Int32Array(1024);
  private length: Int32Array = new Int32Array(1024);
  private hashes: Int32Array = new Int32Array(1024);
  private slots: Int32Array;
  private mask: number;
  /** Ids 0 .. added - 1 are indexed (in id order: this index adds to the vocabulary, and sync() catches up with others' additions). */
  private added = 0;

  /** `vocab`: the vocabulary it indexes and adds to; null for an index of a fixed list (ofList). */
  constructor(readonly vocab: Vocab | null) {
    this.slots = new Int32Array(1 << 12).fill(EMPTY);
    this.mask = this.slots.length - 1;
    this.sync();
  }

  /**
   * An index for looking up (find) the words of `list`, UTF-8 separated by newlines (a binary
   * model's vocabulary section), word i having id i, made without a string of any of them; its
   * `size` is the number of words. A word listed twice is an Error.
   */
  static ofList(list: Uint8Array): ByteWordIndex {
    const index = new ByteWordIndex(null);
    for (let from = 0, id = 0; from <= list.length; id++) {
      let to = list.indexOf(10, from);
      if (to < 0) to = list.length;
      const h = hashBytes(list, from, to);
      if (index.find(list, from, to, h) >= 0) throw new Error(`word ${id} "${Buffer.from(list.subarray(from, to)).toString('utf8')}" repeats an earlier word`);
      index.add(id, list, from, to, h);
      from = to + 1;
    }
    return index;
  }

  /** The number of words indexed. */
  get size(): number {
    return this.added;
  }

  /** Indexes the words added to the vocabulary since (by another reader: it may have added words that this index does not know). */
  sync(): void {
    if (!this.vocab) return;
    for (let id = this.added; id < this.vocab.size; id++) {
      const bytes = Buffer.from(this.vocab.words[id]!, 'utf8');
      this.add(id, bytes, 0, bytes.length, hashBytes(bytes, 0, bytes.length));
    }
  }

  /** The id of the word in bytes[from, to) (valid UTF-8), added to the vocabulary if new. */
  idOf(bytes: Uint8Array, from: number, to: number): number {
    return this.idOfHashed(bytes, from, to, hashBytes(bytes, from, to));
  }

  /** idOf for a caller that hashed the bytes as it scanned them (FNV_OFFSET, FNV_PRIME, & 0x7fffffff). */
  idOfHashed(bytes: Uint8Array, from: number, to: number, h: number): number {
    const found = this.find(bytes, from, to, h);
    if (found >= 0) return found;
    if (!this.vocab) throw new Error('a fixed list of words (ByteWordIndex.ofList) takes no new word');
    // (A Buffer decodes its own bytes without a view made of them: a view cost ~3-6 us a word.)
    const text = bytes instanceof Buffer ? bytes.toString('utf8', from, to) : Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('utf8');
    const id = this.vocab.intern(text);
    this.add(id, bytes, from, to, h);
    return id;
  }

  /** The id of the word in bytes[from, to) hashed as idOfHashed's, or -1 when it is not in the vocabulary. */
  find(bytes: Uint8Array, from: number, to: number, h: number): number {
    const n = to - from;
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const id = this.slots[i]!;
      if (id === EMPTY) return -1;
      if (this.hashes[id] !== h || this.length[id] !== n) continue;
      const at = this.start[id]!;
      let same = true;
      for (let j = 0; j < n; j++) {
        if (this.arena[at + j] !== bytes[from + j]) {
          same = false;
          break;
        }
      }
      if (same) return id;
    }
  }

  private add(id: number, bytes: Uint8Array, from: number, to: number, h: number): void {
    if (id !== this.added) throw new Error(`word id ${id} was added to the vocabulary behind this index's back (expected ${this.added})`);
    this.added++;
    const n = to - from;
    if (id >= this.start.length) {
      this.start = grow(this.start, id * 2);
      this.length = grow(this.length, id * 2);
      this.hashes = grow(this.hashes, id * 2);
    }
    if (this.used + n > this.arena.length) {
      const arena = new Uint8Array(Math.max(this.arena.length * 2, this.used + n));
      arena.set(this.arena.subarray(0, this.used));
      this.arena = arena;
    }
    // A byte loop: a Buffer's subarray() made for each new word cost ~6 us each (13k words of KJV: 85 ms).
    for (let j = 0; j < n; j++) this.arena[this.used + j] = bytes[from + j]!;
    this.start[id] = this.used;
    this.length[id] = n;
    this.hashes[id] = h;
    this.used += n;
    if ((id + 1) * 2 > this.slots.length) this.rehash();
    else this.place(id);
  }

  private place(id: number): void {
    let i = this.hashes[id]! & this.mask;
    while (this.slots[i] !== EMPTY) i = (i + 1) & this.mask;
    this.slots[i] = id;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2).fill(EMPTY);
    this.mask = this.slots.length - 1;
    for (let id = 0; id < this.added; id++) this.place(id);
  }
}

function grow(a: Int32Array, size: number): Int32Array {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}

export const FNV_OFFSET = 0x811c9dc5;
export const FNV_PRIME = 0x01000193;

/** FNV-1a over the bytes, as a non-negative 31-bit int. */
function hashBytes(bytes: Uint8Array, from: number, to: number): number {
  let h = FNV_OFFSET;
  for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i]!, FNV_PRIME);
  return h & 0x7fffffff;
}
