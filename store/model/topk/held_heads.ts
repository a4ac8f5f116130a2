// The Top-K heads of the longest contexts (order - 1 words), held by the store actor that built
// them until the codebook is known, instead of written exact into the store and rewritten with
// codes. No pass reads them as suffix heads (there is no order + 1), so their only reader was the
// codes pass: holding them saves writing about half of all heads (the most numerous length, 256
// bytes each at K = 32) once, and reading them back. The pipeline's smoothing holds them while it
// interpolates the model's order (smooth/interpolate_order.ts) and its codes pass writes them
// (encode_heads.ts); a holder is this actor's share of one length's heads, packed in chunks.
//
// Held heads live in the actor's memory: an actor that restarts between the two passes has lost
// them, and the codes pass says so (the model stays incomplete; smoothing again rebuilds them).
/** Bytes per chunk: growing one buffer by doubling would need twice the heads' bytes at a moment. */
const CHUNK_BYTES = 4 << 20;

export class HeldHeads {
  private readonly chunks: Buffer[] = [];
  /** Bytes used of each chunk. */
  private readonly used: number[] = [];
  rows = 0;

  constructor(
    /** The model whose heads these are. */
    readonly model: string,
  ) {}

  /** Keeps head `value` (exact: u32 word, f32le value per entry) of key `key`. */
  add(key: Buffer, value: Buffer): void {
    const need = 8 + key.length + value.length;
    let last = this.chunks.length - 1;
    if (last < 0 || this.used[last]! + need > this.chunks[last]!.length) {
      this.chunks.push(Buffer.allocUnsafe(Math.max(CHUNK_BYTES, need)));
      this.used.push(0);
      last++;
    }
    const chunk = this.chunks[last]!;
    let at = this.used[last]!;
    chunk.writeUInt32LE(key.length, at);
    at += 4 + key.copy(chunk, at + 4);
    chunk.writeUInt32LE(value.length, at);
    at += 4 + value.copy(chunk, at + 4);
    this.used[last] = at;
    this.rows++;
  }

  /** Every held head as (key, exact value), views of the chunks, in the order added. */
  *entries(): Generator<[Buffer, Buffer]> {
    for (let c = 0; c < this.chunks.length; c++) for (let at = 0; at < this.used[c]!; at = this.next(c, at)) yield this.entryAt(c, at);
  }

  /**
   * entries() ordered by the keys' routing bytes, so the heads of one fork leave together: written
   * in the order built, each fork got a few heads per batch, and every batch dirtied pages all
   * over its fork (a fork's keys are spread over it by the routing hash), each page written to the
   * WAL again at every commit: most of the codes pass's time. Sorted as offsets in typed arrays
   * (an object per head would be tens of megabytes at the store actors' peak).
   */
  *byRouting(): Generator<[Buffer, Buffer]> {
    const chunkOf = new Uint32Array(this.rows);
    const offset = new Uint32Array(this.rows);
    const routing = new Uint32Array(this.rows);
    let n = 0;
    for (let c = 0; c < this.chunks.length; c++) {
      for (let at = 0; at < this.used[c]!; at = this.next(c, at), n++) {
        chunkOf[n] = c;
        offset[n] = at;
        routing[n] = this.chunks[c]!.readUInt32BE(at + 4); // the key's first bytes
      }
    }
    const order = Uint32Array.from({ length: n }, (_, i) => i).sort((x, y) => routing[x]! - routing[y]! || x - y);
    for (const i of order) yield this.entryAt(chunkOf[i]!, offset[i]!);
  }

  /** The entry at `at` of chunk `c`. */
  private entryAt(c: number, at: number): [Buffer, Buffer] {
    const chunk = this.chunks[c]!;
    const key = chunk.subarray(at + 4, (at += 4 + chunk.readUInt32LE(at)));
    return [key, chunk.subarray(at + 4, at + 4 + chunk.readUInt32LE(at))];
  }

  /** Where the entry after the one at `at` of chunk `c` starts. */
  private next(c: number, at: number): number {
    const chunk = this.chunks[c]!;
    at += 4 + chunk.readUInt32LE(at);
    return at + 4 + chunk.readUInt32LE(at);
  }
}
