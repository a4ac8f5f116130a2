// A ring of byte slots in shared memory, from one thread that formats text to one that writes it
// (arpa_parallel.ts): the writer of the ARPA file takes the formatting thread's chunks in order
// as they are made, and the memory is a few MB allocated once, whatever the size of the text.
// A chunk larger than a slot fills several. Besides bytes, a slot can hold a mark: the end of a
// block of chunks, or a failure on the formatting side (whose message comes by postMessage).
//
// Either side waits on a counter with Atomics.wait when the ring is empty or full, with a bound,
// so that a thread that died without a word cannot hang the other for ever.

/** What a slot holds besides bytes (its length, when negative). */
export const END_OF_BLOCK = -1;
export const FAILED = -2;

const PRODUCED = 0;
const CONSUMED = 1;
/** Give up when the other side moves nothing for this long. */
const SILENCE_MS = 120_000;

/** The ring's shared memory, as posted to the other thread. */
export interface RingMemory {
  /** [slots produced, slots consumed], counters since the start. */
  control: Int32Array;
  /** The length of what each slot holds, or a mark. */
  lengths: Int32Array;
  data: Uint8Array;
}

export class ChunkRing {
  private readonly slots: number;
  private readonly slotBytes: number;

  constructor(readonly memory: RingMemory) {
    this.slots = memory.lengths.length;
    this.slotBytes = memory.data.length / this.slots;
  }

  static create(slots: number, slotBytes: number): ChunkRing {
    return new ChunkRing({
      control: new Int32Array(new SharedArrayBuffer(8)),
      lengths: new Int32Array(new SharedArrayBuffer(slots * 4)),
      data: new Uint8Array(new SharedArrayBuffer(slots * slotBytes)),
    });
  }

  /** Producer: appends `bytes` (in as many slots as they need), waiting while the ring is full. */
  put(bytes: Uint8Array): void {
    for (let from = 0; from < bytes.length; from += this.slotBytes) {
      const piece = bytes.subarray(from, Math.min(bytes.length, from + this.slotBytes));
      const slot = this.claim();
      this.memory.data.set(piece, slot * this.slotBytes);
      this.publish(slot, piece.length);
    }
  }

  /** Producer: appends a mark (END_OF_BLOCK or FAILED). */
  mark(code: number): void {
    this.publish(this.claim(), code);
  }

  /**
   * Consumer: the next slot's bytes (a view valid until release()), or its mark; waits while the
   * ring is empty.
   */
  take(): Uint8Array | number {
    const { control, lengths, data } = this.memory;
    const next = Atomics.load(control, CONSUMED);
    waitWhile(control, PRODUCED, next, 'the ARPA formatting thread');
    const slot = next % this.slots;
    const length = lengths[slot]!;
    return length < 0 ? length : data.subarray(slot * this.slotBytes, slot * this.slotBytes + length);
  }

  /** Consumer: done with the slot take() returned. */
  release(): void {
    Atomics.add(this.memory.control, CONSUMED, 1);
    Atomics.notify(this.memory.control, CONSUMED);
  }

  /** The next free slot, once the consumer has left one. */
  private claim(): number {
    const control = this.memory.control;
    const produced = Atomics.load(control, PRODUCED);
    for (let consumed = Atomics.load(control, CONSUMED); produced - consumed >= this.slots; consumed = Atomics.load(control, CONSUMED)) {
      waitWhile(control, CONSUMED, consumed, 'the ARPA writing thread');
    }
    return produced % this.slots;
  }

  private publish(slot: number, length: number): void {
    this.memory.lengths[slot] = length;
    Atomics.add(this.memory.control, PRODUCED, 1);
    Atomics.notify(this.memory.control, PRODUCED);
  }
}

/** Waits while control[index] is still `value`; an error naming `other` after SILENCE_MS of it. */
function waitWhile(control: Int32Array, index: number, value: number, other: string): void {
  const start = performance.now();
  while (Atomics.load(control, index) === value) {
    if (Atomics.wait(control, index, value, 1000) === 'timed-out' && performance.now() - start > SILENCE_MS) {
      throw new Error(`${other} made no progress for ${SILENCE_MS / 1000} s`);
    }
  }
}
