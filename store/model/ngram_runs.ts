// The n-grams of one order sorted by their word-id tuples in bounded memory, for the store's ARPA
// export (arpa_export.ts): the store hands them out in routing-hash order, the ARPA lists them in
// tuple order. Records go into a buffer of fixed capacity; a full buffer is sorted and written to
// a run file, and the sorted records are read back as one merge of the runs and the buffer's rest
// (an external merge sort, as lmplz sorts its n-grams). A model whose records fit the buffer is
// never written to disk.
//
// A record is k word ids (u32) then log10 p and backoff as float32, (k + 2) words in native byte
// order, the same in the buffer and in run files. float32 loses nothing the ARPA shows: the writer
// prints the shortest text of Math.fround(v) (model/arpa_write.ts writeFloat32).
import fs from 'node:fs';
import path from 'node:path';

/** Bytes a run file is written in, and at most read in (a merge of many runs reads less per run). */
const IO_BYTES = 1 << 18;
const MIN_READ_BYTES = 1 << 12;

/** The current record of a sorted stream: ids at u32[at .. at + k), log10 p f32[at + k], backoff f32[at + k + 1]. */
export interface RecordCursor {
  u32: Uint32Array;
  f32: Float32Array;
  at: number;
  /** Moves to the next record; false once there is none (and the fields are stale). */
  next(): boolean;
}

/** Ids below this sort in one counting pass per word; larger vocabularies take two of 16 bits each, so the pass's table stays 256 KiB. */
const ONE_PASS_IDS = 1 << 16;

/** Record indices 0 .. n - 1 sorted by their id tuples: stable counting passes, last word first (LSD radix). */
function radixOrder(u32: Uint32Array, n: number, k: number, vocabSize: number): Uint32Array {
  const stride = k + 2;
  let order = new Uint32Array(n);
  let spare = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const wide = vocabSize > ONE_PASS_IDS;
  const buckets = wide ? ONE_PASS_IDS : vocabSize;
  const start = new Uint32Array(buckets + 1);
  const pass = (pos: number, shift: number): void => {
    const mask = wide ? 0xffff : 0xffffffff;
    start.fill(0);
    for (let i = 0; i < n; i++) start[((u32[i * stride + pos]! >>> shift) & mask) + 1]!++;
    for (let b = 0; b < buckets; b++) start[b + 1]! += start[b]!;
    for (let j = 0; j < n; j++) {
      const i = order[j]!;
      spare[start[(u32[i * stride + pos]! >>> shift) & mask]!++] = i;
    }
    [order, spare] = [spare, order];
  };
  for (let pos = k - 1; pos >= 0; pos--) {
    pass(pos, 0);
    if (wide) pass(pos, 16);
  }
  return order;
}

/** Records of a buffer in a given order (the sorted rest that never went to disk). */
class BufferCursor implements RecordCursor {
  at = 0;
  private i = -1;
  constructor(
    readonly u32: Uint32Array,
    readonly f32: Float32Array,
    private readonly order: Uint32Array,
    private readonly stride: number,
  ) {}
  next(): boolean {
    if (++this.i >= this.order.length) return false;
    this.at = this.order[this.i]! * this.stride;
    return true;
  }
}

/** The records of a run file, read IO_BYTES at a time. */
class FileCursor implements RecordCursor {
  readonly u32: Uint32Array;
  readonly f32: Float32Array;
  at: number;
  private filled = 0;
  private readonly bytes: Uint8Array;
  private fd: number | null;
  constructor(
    file: string,
    private readonly stride: number,
    readBytes: number,
  ) {
    const buffer = new ArrayBuffer(Math.max(1, Math.floor(readBytes / (stride * 4))) * stride * 4);
    this.bytes = new Uint8Array(buffer);
    this.u32 = new Uint32Array(buffer);
    this.f32 = new Float32Array(buffer);
    this.at = -stride;
    this.fd = fs.openSync(file, 'r');
  }
  next(): boolean {
    this.at += this.stride;
    if (this.at < this.filled) return true;
    if (this.fd === null) return false;
    const got = fs.readSync(this.fd, this.bytes, 0, this.bytes.length, null);
    // Run files hold whole records and are read in multiples of a record.
    this.filled = got / 4;
    this.at = 0;
    if (got > 0) return true;
    this.close();
    return false;
  }
  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

/** The smallest current record of several sorted cursors, as one sorted cursor (a binary heap of cursors). */
class MergeCursor implements RecordCursor {
  u32: Uint32Array = new Uint32Array(0);
  f32: Float32Array = new Float32Array(0);
  at = 0;
  private heap: RecordCursor[] = [];
  private started = false;
  constructor(
    private readonly sources: RecordCursor[],
    private readonly k: number,
  ) {}

  private less(a: RecordCursor, b: RecordCursor): boolean {
    for (let i = 0; i < this.k; i++) {
      const x = a.u32[a.at + i]!;
      const y = b.u32[b.at + i]!;
      if (x !== y) return x < y;
    }
    return false;
  }

  private down(i: number): void {
    const heap = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= heap.length) return;
      const c = l + 1 < heap.length && this.less(heap[l + 1]!, heap[l]!) ? l + 1 : l;
      if (!this.less(heap[c]!, heap[i]!)) return;
      [heap[c], heap[i]] = [heap[i]!, heap[c]!];
      i = c;
    }
  }

  next(): boolean {
    const heap = this.heap;
    if (!this.started) {
      this.started = true;
      for (const s of this.sources) if (s.next()) heap.push(s);
      for (let i = (heap.length >> 1) - 1; i >= 0; i--) this.down(i);
    } else if (heap.length > 0) {
      if (!heap[0]!.next()) {
        heap[0] = heap[heap.length - 1]!;
        heap.pop();
      }
      this.down(0);
    }
    if (heap.length === 0) return false;
    const top = heap[0]!;
    this.u32 = top.u32;
    this.f32 = top.f32;
    this.at = top.at;
    return true;
  }
}

/** One order's records, added in any order and read back sorted by tuple. */
export class OrderRuns {
  readonly stride: number;
  readonly capacity: number;
  /** Records added. */
  added = 0;
  private u32: Uint32Array;
  private f32: Float32Array;
  private held = 0;
  private readonly runs: string[] = [];

  /**
   * `capacity`: records held in memory before a run is written; `spillDir()` gives the directory
   * for run files (made on first use); ids must be below `vocabSize`.
   */
  constructor(
    readonly k: number,
    capacity: number,
    private readonly vocabSize: number,
    private readonly spillDir: () => string,
  ) {
    this.stride = k + 2;
    this.capacity = Math.max(1, capacity);
    const buffer = new ArrayBuffer(this.capacity * this.stride * 4);
    this.u32 = new Uint32Array(buffer);
    this.f32 = new Float32Array(buffer);
  }

  /** Run files written so far. */
  get spilled(): number {
    return this.runs.length;
  }

  /** Adds a record: the ids ids[idsAt .. idsAt + k), each below the vocabulary size (the caller checks). */
  add(ids: Uint32Array, idsAt: number, logProb: number, backoff: number): void {
    if (this.held === this.capacity) this.spill();
    const at = this.held++ * this.stride;
    for (let i = 0; i < this.k; i++) this.u32[at + i] = ids[idsAt + i]!;
    this.f32[at + this.k] = logProb;
    this.f32[at + this.k + 1] = backoff;
    this.added++;
  }

  /** The held records, sorted, to a new run file. */
  private spill(): void {
    const order = radixOrder(this.u32, this.held, this.k, this.vocabSize);
    const file = path.join(this.spillDir(), `${this.k}-grams.${this.runs.length}.run`);
    const fd = fs.openSync(file, 'w');
    try {
      const perChunk = Math.max(1, Math.floor(IO_BYTES / (this.stride * 4)));
      const out = new Uint32Array(perChunk * this.stride);
      for (let from = 0; from < order.length; from += perChunk) {
        const to = Math.min(order.length, from + perChunk);
        for (let j = from; j < to; j++) {
          const src = order[j]! * this.stride;
          const dst = (j - from) * this.stride;
          for (let w = 0; w < this.stride; w++) out[dst + w] = this.u32[src + w]!;
        }
        fs.writeSync(fd, out, 0, (to - from) * this.stride * 4);
      }
    } finally {
      fs.closeSync(fd);
    }
    this.runs.push(file);
    this.held = 0;
  }

  /**
   * Every record added, sorted by tuple (the store has no duplicate keys). Once only: the buffer
   * passes to the cursor, so it is freed with it rather than held until every order is written.
   */
  sorted(): RecordCursor {
    const rest = new BufferCursor(this.u32, this.f32, radixOrder(this.u32, this.held, this.k, this.vocabSize), this.stride);
    this.u32 = new Uint32Array(0);
    this.f32 = new Float32Array(0);
    this.held = 0;
    if (this.runs.length === 0) return rest;
    // The runs' read buffers share the buffer's size, so a merge of many runs holds no more.
    const readBytes = Math.min(IO_BYTES, Math.max(MIN_READ_BYTES, Math.floor((this.capacity * this.stride * 4) / this.runs.length)));
    return new MergeCursor([...this.runs.map((f) => new FileCursor(f, this.stride, readBytes)), rest], this.k);
  }
}
