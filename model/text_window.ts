// A text file read a window at a time, for the ARPA lexer (arpa_lex.ts) on its loading thread.
// Reading an order-5 model's 70 MB whole cost its thread ~130 ms: the kernel's copy, and first
// touches of 70 MB of fresh memory (on our VMs ~1 ms per MB). A window of a few MB, reused,
// is touched once. The window always ends at the end of the bytes read so far; the lexer asks
// for more when it finds no newline before that end, and the unfinished line moves to the front.
//
// The text is checked to be UTF-8 as it arrives, whole lines at a time (a window boundary may
// split a character, a line boundary never does), and an error names the line, as for a text
// read whole (corpus_read.ts decodeUtf8).
import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import { decodeUtf8 } from './corpus_read.js';
import { InputError } from './errors.js';

/** Large enough that a read call per window costs nothing beside lexing it, small enough to stay in the caches' reach. */
const WINDOW_BYTES = 2 << 20;

export class TextWindow {
  /** The window's bytes: from the front to the end of what has been read. */
  bytes: Buffer;
  private buffer: Buffer;
  /** Bytes at the front known to be valid UTF-8 (whole lines). */
  private checked = 0;
  private ended = false;

  private constructor(
    private fd: number,
    readonly file: string,
  ) {
    this.buffer = Buffer.allocUnsafeSlow(WINDOW_BYTES);
    this.bytes = this.buffer.subarray(0, 0);
  }

  /** Opens `file` for reading a window at a time; a file that cannot be read is an InputError naming it. */
  static open(file: string): TextWindow {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (e) {
      throw new InputError(`cannot read: ${(e as Error).message}`, file);
    }
    const window = new TextWindow(fd, file);
    window.refill(0, 1);
    return window;
  }

  /**
   * Drops bytes[0, from), moves the rest to the front and reads more after it. `lineOfFrom` is the
   * line number of the byte at `from` (for errors). False, with nothing read, at the end of the file.
   */
  refill(from: number, lineOfFrom: number): boolean {
    if (this.ended) return false;
    const kept = this.bytes.length - from;
    if (kept === this.buffer.length) {
      // One line fills the window: a larger one.
      const larger = Buffer.allocUnsafeSlow(this.buffer.length * 2);
      this.buffer.copy(larger, 0, from, from + kept);
      this.buffer = larger;
    } else if (kept > 0) this.buffer.copyWithin(0, from, from + kept);
    this.checked = Math.max(0, this.checked - from);
    let got: number;
    try {
      got = fs.readSync(this.fd, this.buffer, kept, this.buffer.length - kept, null);
    } catch (e) {
      this.close();
      throw new InputError(`cannot read: ${(e as Error).message}`, this.file);
    }
    this.bytes = this.buffer.subarray(0, kept + got);
    if (got === 0) {
      this.ended = true;
      this.close();
    }
    this.check(lineOfFrom);
    return got > 0;
  }

  /** Checks the whole lines read since the last check (to the end once the file has ended). */
  private check(lineOfFront: number): void {
    const upTo = this.ended ? this.bytes.length : this.bytes.lastIndexOf(10) + 1;
    if (upTo <= this.checked) return;
    const lines = this.bytes.subarray(this.checked, upTo);
    if (!isUtf8(lines)) {
      let line = lineOfFront;
      for (let at = this.bytes.indexOf(10); at >= 0 && at < this.checked; at = this.bytes.indexOf(10, at + 1)) line++;
      decodeUtf8(lines, this.file, line); // throws, naming the line
    }
    this.checked = upTo;
  }

  /** Closes the file before its end (the lexer failed); harmless after. */
  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}
