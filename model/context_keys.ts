// The slots of one order's n-grams by their 64-bit key (ngram_key.ts), for finding the context of
// the next order's records in one lookup (arpa_contexts.ts). A key is trusted only after the place
// it names holds the context's last word; two entries with one key are detected as they are added
// (the next order then walks to every context instead), so a collision never places an n-gram
// under the wrong context.
const EMPTY = -1;

export class ContextKeys {
  /** [lo, hi, slot] per cell. */
  private cells: Int32Array;
  private mask: number;
  private size = 0;

  constructor(expected: number) {
    let cap = 1024;
    while (cap < expected * 2) cap *= 2;
    this.cells = new Int32Array(cap * 3).fill(EMPTY);
    this.mask = cap - 1;
  }

  /** Adds a key; false when another entry already has it (a 64-bit collision: about once in 10^7 files). */
  add(lo: number, hi: number, slot: number): boolean {
    // (Sized from the header's count; a damaged file may hold more before its count is checked.)
    if (++this.size * 2 > this.mask) this.grow();
    const cells = this.cells;
    for (let i = (lo ^ hi) & this.mask; ; i = (i + 1) & this.mask) {
      const at = i * 3;
      if (cells[at + 2] === EMPTY) {
        cells[at] = lo;
        cells[at + 1] = hi;
        cells[at + 2] = slot;
        return true;
      }
      if (cells[at] === lo && cells[at + 1] === hi) return false;
    }
  }

  private grow(): void {
    const old = this.cells;
    this.cells = new Int32Array(old.length * 2).fill(EMPTY);
    this.mask = this.mask * 2 + 1;
    for (let at = 0; at < old.length; at += 3) {
      if (old[at + 2] === EMPTY) continue;
      let i = (old[at]! ^ old[at + 1]!) & this.mask;
      while (this.cells[i * 3 + 2] !== EMPTY) i = (i + 1) & this.mask;
      this.cells.set(old.subarray(at, at + 3), i * 3);
    }
  }

  /** The slot with this key, or -1. */
  get(lo: number, hi: number): number {
    const cells = this.cells;
    for (let i = (lo ^ hi) & this.mask; ; i = (i + 1) & this.mask) {
      const at = i * 3;
      const slot = cells[at + 2]!;
      if (slot === EMPTY) return -1;
      if (cells[at] === lo && cells[at + 1] === hi) return slot;
    }
  }
}
