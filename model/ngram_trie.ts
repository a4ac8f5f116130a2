// A forward trie of n-grams stored as one open-addressing hash table from (parent node, word) to
// node. Node ids are dense and global across orders; node 0 is the root (the empty context).
// Because a node is always created after its parent and after its suffix (the n-gram minus its
// first word), id order is a valid processing order for every bottom-up computation, which lets
// counting, smoothing, ARPA loading, sampling and Top-K share this one structure with no sorting.
// (Scoring copies the model into per-order probing tables, query_index.ts, built from this trie.)
//
// Typed arrays rather than Maps of strings: a Map of 1.8M string keys costs far more memory and
// time than these flat arrays.

import { sharedUint8 } from './shared_arrays.js';

export const ROOT = 0;
const EMPTY = -1;
/**
 * Slot layout: [parent, word, node, count]: one 16-byte slot, four to a cache line. The count is
 * the occurrence count kept by `countOrder`, next to the key the probe already brought in.
 */
const STRIDE = 4;

/** A trie's arrays and sizes, every buffer transferable: how a trie counted on a worker thread moves. */
export interface TrieParts {
  parent: Int32Array;
  word: Int32Array;
  order: Uint8Array;
  suffix: Int32Array;
  slots: Int32Array;
  mask: number;
  size: number;
}

/** A copy of `a` in a zeroed array of `size`. */
export function growInt32(a: Int32Array, size: number): Int32Array {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}

export class NgramTrie {
  /** parent[n]: the node of n's first (order-1) words; ROOT for unigrams. */
  parent: Int32Array;
  /** word[n]: the last word id of n-gram n. */
  word: Int32Array;
  /** order[n]: the number of words in n (0 for ROOT). */
  order: Uint8Array;
  /** suffix[n]: the node of n minus its first word; ROOT for unigrams. */
  suffix: Int32Array;
  size = 1;
  /**
   * One open-addressing table for all orders. (Scoring uses per-order tables instead, see
   * query_index.ts; for counting, one table measured 15% faster than one per order.)
   */
  private slots: Int32Array;
  private mask: number;

  constructor(expectedNodes = 1 << 16, parts?: TrieParts) {
    if (parts) {
      ({ parent: this.parent, word: this.word, order: this.order, suffix: this.suffix, slots: this.slots, mask: this.mask, size: this.size } = parts);
      return;
    }
    let cap = 1 << 10;
    while (cap < expectedNodes * 2) cap <<= 1;
    this.slots = new Int32Array(cap * STRIDE).fill(EMPTY);
    this.mask = cap - 1;
    const n = Math.max(1024, expectedNodes);
    this.parent = new Int32Array(n);
    this.word = new Int32Array(n);
    this.order = sharedUint8(n); // shared: the ARPA writer's second thread reads it (shared_arrays.ts)
    this.suffix = new Int32Array(n);
    this.parent[ROOT] = -1;
    this.word[ROOT] = -1;
  }

  /** The trie's own arrays (not copies): post them with their buffers in the transfer list. */
  toParts(): TrieParts {
    return { parent: this.parent, word: this.word, order: this.order, suffix: this.suffix, slots: this.slots, mask: this.mask, size: this.size };
  }

  /** The trie whose toParts() these are. */
  static fromParts(p: TrieParts): NgramTrie {
    return new NgramTrie(0, p);
  }

  get capacity(): number {
    return this.parent.length;
  }

  /** The child of `parent` by `word`, or -1. */
  find(parent: number, word: number): number {
    const slots = this.slots;
    const mask = this.mask;
    let i = hash(parent, word) & mask;
    for (;;) {
      const at = i * STRIDE;
      const p = slots[at];
      if (p === EMPTY) return -1;
      if (p === parent && slots[at + 1] === word) return slots[at + 2];
      i = (i + 1) & mask;
    }
  }

  /**
   * The child of `parent` by `word`; creates it (with the given suffix) when absent. Returns the
   * node id, negated minus one when the node is new, so callers can count first sightings without
   * a second lookup.
   */
  findOrInsert(parent: number, word: number, suffix: number): number {
    return this.findOrInsertOrder(this.order[parent] + 1, parent, word, suffix);
  }

  /** findOrInsert for a parent of known order k - 1: hot loops know k and skip a memory load. */
  findOrInsertOrder(k: number, parent: number, word: number, suffix: number): number {
    return this.probe(k, parent, word, suffix, 0);
  }

  private probe(k: number, parent: number, word: number, suffix: number, add: number): number {
    const slots = this.slots;
    const mask = this.mask;
    let i = hash(parent, word) & mask;
    for (;;) {
      const at = i * STRIDE;
      const p = slots[at];
      if (p === EMPTY) {
        const node = this.size++;
        if (node >= this.parent.length) this.growNodes();
        this.parent[node] = parent;
        this.word[node] = word;
        this.order[node] = k;
        this.suffix[node] = suffix;
        slots[at] = parent;
        slots[at + 1] = word;
        slots[at + 2] = node;
        slots[at + 3] = add;
        if (this.size * 2 > mask) this.growSlots();
        return -node - 1;
      }
      if (p === parent && slots[at + 1] === word) {
        slots[at + 3] += add;
        return slots[at + 2];
      }
      i = (i + 1) & mask;
    }
  }

  /**
   * findOrInsertOrder that also counts one occurrence in the slot: counting then touches one
   * cache line per n-gram instead of two (the slot, then a count array indexed by node).
   */
  /**
   * Reads the slot a probe of (parent, word) starts at, so that a caller about to probe several
   * keys can read them all first and their cache misses overlap (corpus_count.ts); the value is
   * returned only so that the read is kept.
   */
  touch(parent: number, word: number): number {
    return this.slots[(hash(parent, word) & this.mask) * STRIDE]!;
  }

  countOrder(k: number, parent: number, word: number, suffix: number): number {
    return this.probe(k, parent, word, suffix, 1);
  }

  /** findOrInsertOrder that adds `count` occurrences (merging counted runs, count_runs.ts). */
  addCount(k: number, parent: number, word: number, suffix: number, count: number): number {
    return this.probe(k, parent, word, suffix, count);
  }

  /** The counts kept by countOrder, by node. */
  slotCounts(): Float64Array {
    const out = new Float64Array(this.capacity);
    const slots = this.slots;
    for (let at = 0; at < slots.length; at += STRIDE) if (slots[at] !== EMPTY) out[slots[at + 2]] = slots[at + 3];
    return out;
  }

  /**
   * Sets every node's suffix link in one pass, for tries filled without them (a loaded model): a
   * node's suffix is its parent's suffix extended by its last word, and parents come first in id
   * order, so the parent's suffix is already known.
   */
  linkSuffixes(): void {
    for (let n = 1; n < this.size; n++) {
      const p = this.parent[n];
      this.suffix[n] = p === ROOT ? ROOT : this.suffix[p] < 0 ? -1 : this.find(this.suffix[p], this.word[n]);
    }
  }

  /** The node of the word sequence `ids`, or -1. */
  findPath(ids: ArrayLike<number>): number {
    let node = ROOT;
    for (let i = 0; i < ids.length && node >= 0; i++) node = this.find(node, ids[i]);
    return node;
  }

  /** The word ids of node n, first word first. */
  path(n: number): number[] {
    const out: number[] = [];
    for (let m = n; m !== ROOT; m = this.parent[m]) out.push(this.word[m]);
    return out.reverse();
  }

  /** Number of nodes of each order, index 0 unused. */
  countsByOrder(maxOrder: number): number[] {
    const counts = new Array<number>(maxOrder + 1).fill(0);
    for (let n = 1; n < this.size; n++) counts[this.order[n]]++;
    return counts;
  }

  private growNodes(): void {
    const n = this.parent.length * 2;
    this.parent = growInt32(this.parent, n);
    this.word = growInt32(this.word, n);
    this.suffix = growInt32(this.suffix, n);
    const o = sharedUint8(n);
    o.set(this.order);
    this.order = o;
  }

  private growSlots(): void {
    const old = this.slots;
    const cap = (this.mask + 1) * 2;
    const slots = new Int32Array(cap * STRIDE).fill(EMPTY);
    const mask = cap - 1;
    for (let at = 0; at < old.length; at += STRIDE) {
      const parent = old[at];
      if (parent === EMPTY) continue;
      const word = old[at + 1];
      let i = hash(parent, word) & mask;
      while (slots[i * STRIDE] !== EMPTY) i = (i + 1) & mask;
      slots[i * STRIDE] = parent;
      slots[i * STRIDE + 1] = word;
      slots[i * STRIDE + 2] = old[at + 2];
      slots[i * STRIDE + 3] = old[at + 3];
    }
    this.slots = slots;
    this.mask = mask;
  }
}

/** A 32-bit mix of two ints (murmur3 finalizer over a multiplicative combine). */
export function hash(a: number, b: number): number {
  let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 13;
  return h >>> 0;
}
