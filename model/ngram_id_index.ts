// The entries of one ARPA section, found by their word ids: while lexing order k (arpa_lex.ts), each
// record's context is looked up among order k - 1's entries by its ids, so the model builder gets
// the context as an entry number and reads its node from an array, instead of walking the trie from
// the context's first word (k - 1 random probes a line, in the suffix order KenLM writes: most of
// the time of putting a large model together).
const EMPTY = -1;

export class NgramIdIndex {
  /** The ids of entry e: ids[e * order .. (e + 1) * order). */
  private ids: Int32Array;
  private slots: Int32Array;
  private mask: number;
  size = 0;

  constructor(
    readonly order: number,
    expected: number,
  ) {
    this.ids = new Int32Array(Math.max(16, expected) * order);
    let cap = 1024;
    while (cap < expected * 2) cap *= 2;
    this.slots = new Int32Array(cap).fill(EMPTY);
    this.mask = cap - 1;
  }

  /** Adds the entry words[at .. at + order) as entry number `size` (the caller checks duplicates elsewhere). */
  add(words: Int32Array, at: number): void {
    const k = this.order;
    if ((this.size + 1) * k > this.ids.length) {
      const ids = new Int32Array(this.ids.length * 2);
      ids.set(this.ids);
      this.ids = ids;
    }
    const e = this.size++;
    this.ids.set(words.subarray(at, at + k), e * k);
    if (this.size * 2 > this.slots.length) this.rehash();
    else this.place(e, hashIds(words, at, k));
  }

  /** The entry number of words[at .. at + order), or -1. */
  find(words: Int32Array, at: number): number {
    const k = this.order;
    const ids = this.ids;
    for (let i = hashIds(words, at, k) & this.mask; ; i = (i + 1) & this.mask) {
      const e = this.slots[i]!;
      if (e === EMPTY) return -1;
      let j = 0;
      while (j < k && ids[e * k + j] === words[at + j]) j++;
      if (j === k) return e;
    }
  }

  private place(e: number, h: number): void {
    let i = h & this.mask;
    while (this.slots[i] !== EMPTY) i = (i + 1) & this.mask;
    this.slots[i] = e;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2).fill(EMPTY);
    this.mask = this.slots.length - 1;
    for (let e = 0; e < this.size; e++) this.place(e, hashIds(this.ids, e * this.order, this.order));
  }
}

/** A hash of `count` ids (murmur3's finalizer over a running mix). */
function hashIds(words: Int32Array, at: number, count: number): number {
  let h = count;
  for (let j = 0; j < count; j++) h = Math.imul(h ^ words[at + j]!, 0x9e3779b1) ^ (h >>> 15);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & 0x7fffffff;
}
