// A growing byte buffer that text is formatted into by index and handed out in chunks: the ARPA
// writer's output (arpa_write.ts) and the numbers in it (float32_text.ts).

/** Room kept past a chunk for the entry that crosses its end. */
const SLACK = 4096;

/** A growing run of bytes handed out in chunks. */
export class ByteSink {
  buf: Buffer;
  pos: number;
  /** Where in buf the chunk being written starts. */
  private start: number;
  /** `reuse`: take() hands out views of one buffer, each valid until the sink is written again. */
  constructor(
    readonly chunk: number,
    private readonly reuse = false,
  ) {
    this.buf = Buffer.allocUnsafeSlow(chunk + SLACK);
    this.start = this.pos = 0;
  }
  /** True once a chunk's worth is written; callers take() between entries. */
  full(): boolean {
    return this.pos - this.start >= this.chunk;
  }
  /** True when something is written since the last take. */
  pending(): boolean {
    return this.pos > this.start;
  }
  /**
   * What is written since the last take, handed out as a view (not copied): the sink goes on
   * past it, or in a new buffer (or, with `reuse`, over it).
   */
  take(): Buffer {
    const out = this.buf.subarray(this.start, this.pos);
    if (this.reuse) {
      this.start = this.pos = 0;
      return out;
    }
    this.start = this.pos;
    if (this.buf.length - this.pos < this.chunk + SLACK) this.leave(this.chunk + SLACK);
    return out;
  }
  ascii(s: string): void {
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }
  /** Makes room for n more bytes (number formatting writes digits by index). */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.leave(Math.max(this.chunk + SLACK, (this.pos - this.start) * 2 + n));
  }
  /** Goes on in a new buffer of `size` bytes, taking along what is written since the last take. */
  private leave(size: number): void {
    const b = Buffer.allocUnsafeSlow(size);
    this.buf.copy(b, 0, this.start, this.pos);
    this.pos -= this.start;
    this.start = 0;
    this.buf = b;
  }
}
