// The slots of one order's n-grams by their 64-bit key (ngram_key.ts), for finding the context of
// the next order's records in one lookup (arpa_contexts.ts). A key is trusted only when the entry
// it names has the context's last word; two entries with one key are detected as they are added
// (the next order then walks to every context instead), so a collision never places an n-gram
// under the wrong context. The last word is kept in the key's cell, beside the slot: checking it
// in the table the slot belongs to was one more cache miss per record, in a table of 50 MB.
import { homeSlot, slotsFor } from './query_index.js';

const EMPTY = -1;
const CELL = 4;
/** How full an ARPA file's scoring tables and these keys are made at most (arpa_query_index.ts). */
export const ARPA_TABLE_LOAD = 0.7;

export class ContextKeys {
  /** [lo, hi, slot, last word] per cell. */
  private cells: Int32Array;
  /** Cells in the table (any number: query_index.ts homeSlot). */
  private slots: number;
  private size = 0;

  constructor(expected: number) {
    this.slots = slotsFor(expected, ARPA_TABLE_LOAD);
    this.cells = new Int32Array(this.slots * CELL).fill(EMPTY);
  }

  /** Adds a key; false when another entry already has it (a 64-bit collision: about once in 10^7 files). */
  add(lo: number, hi: number, slot: number, lastWord: number): boolean {
    // (Sized from the header's count; a damaged file may hold more before its count is checked.)
    if (++this.size * 4 > this.slots * 3) this.grow();
    const cells = this.cells;
    const slots = this.slots;
    for (let i = homeSlot((lo ^ hi) >>> 0, slots); ; i = i + 1 === slots ? 0 : i + 1) {
      const at = i * CELL;
      if (cells[at + 2] === EMPTY) {
        cells[at] = lo;
        cells[at + 1] = hi;
        cells[at + 2] = slot;
        cells[at + 3] = lastWord;
        return true;
      }
      if (cells[at] === lo && cells[at + 1] === hi) return false;
    }
  }

  private grow(): void {
    const old = this.cells;
    this.slots *= 2;
    this.cells = new Int32Array(this.slots * CELL).fill(EMPTY);
    for (let at = 0; at < old.length; at += CELL) {
      if (old[at + 2] === EMPTY) continue;
      let i = homeSlot((old[at]! ^ old[at + 1]!) >>> 0, this.slots);
      while (this.cells[i * CELL + 2] !== EMPTY) if (++i === this.slots) i = 0;
      this.cells.set(old.subarray(at, at + CELL), i * CELL);
    }
  }

  /**
   * Reads the cell `get` or `add` will start at, for a caller reading a batch of keys ahead
   * (arpa_contexts.ts warm); the value is returned only so that the read is not optimised away.
   */
  touch(lo: number, hi: number): number {
    return this.cells[homeSlot((lo ^ hi) >>> 0, this.slots) * CELL]!;
  }

  /** The slot with this key, or -1; -1 also when that entry's last word is not `lastWord`. */
  get(lo: number, hi: number, lastWord: number): number {
    const cells = this.cells;
    const slots = this.slots;
    for (let i = homeSlot((lo ^ hi) >>> 0, slots); ; i = i + 1 === slots ? 0 : i + 1) {
      const at = i * CELL;
      const slot = cells[at + 2]!;
      if (slot === EMPTY) return -1;
      if (cells[at] === lo && cells[at + 1] === hi) return cells[at + 3] === lastWord ? slot : -1;
    }
  }
}
