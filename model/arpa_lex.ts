// The lexing half of reading ARPA text: the bytes become records (order, word ids, log10 p,
// backoff, line), in chunks, with every check of the text itself done here (the \data\ header,
// section headers and counts, fields, numbers, \end\). The other half (arpa_read.ts) puts the
// records into the model. The halves can run on two threads (cli/io/arpa_load.ts): lexing is about
// half of the work of loading a large model.
//
// Read from the bytes (arpa_fields.ts, byte_words.ts): no string is made of a line, a field or a
// number, only of each new word, once. Fields are separated by runs of ASCII blanks, so KenLM's
// and SRILM's tab-separated lines and space-separated ones read alike.
import { isUtf8 } from 'node:buffer';
import { decimalEnd, isBlank, parseDecimal, readDecimal } from './arpa_fields.js';
import { ByteWordIndex, FNV_OFFSET, FNV_PRIME } from './byte_words.js';
import { finishKey, KEY_SEED1, KEY_SEED2, keyStep1, keyStep2 } from './ngram_key.js';
import { decodeUtf8 } from './corpus_read.js';
import { InputError } from './errors.js';
import { TextWindow } from './text_window.js';
import { Vocab } from './vocab.js';

/** Records of one section, in file order. */
export interface ArpaChunk {
  order: number;
  count: number;
  /** The words of record i: ids[i * order .. (i + 1) * order). */
  ids: Int32Array;
  logProb: Float64Array;
  backoff: Float64Array;
  /** The line of each record (for messages about it). */
  lines: Int32Array;
  /** Words first seen in this chunk, in id order (they follow every word of the earlier chunks). */
  newWords: string[];
  /** 64-bit keys (ngram_key.ts) of each record: [context lo, context hi, n-gram lo, n-gram hi]. */
  keys: Int32Array;
  /** The memory every array above views: pass it to a later nextChunk once this chunk is read, so it is used again. */
  buffer: ArrayBuffer;
}

export interface ArpaHeader {
  order: number;
  /** Entries declared per order, index 0 unused. */
  declared: number[];
}

/** Records per chunk: large enough that handing a chunk over costs little, small enough to overlap. */
const CHUNK_ENTRIES = 1 << 16;

export class ArpaLexer {
  private pos = 0;
  private line = 0;
  private start = 0;
  private end = 0;
  private bytes: Buffer;
  /** Where more bytes come from when the text is read a window at a time; null when it is whole. */
  private readonly window: TextWindow | null;
  readonly header: ArpaHeader;
  private readonly vocab = new Vocab();
  private readonly words = new ByteWordIndex(this.vocab);
  private wordsSent = 0;
  /** The section being read, and whether the current line is its next entry (false: a header line or the end). */
  private section = 0;
  private seen = 0;
  private more: boolean;

  /** `input`: the whole text, or a window on a file (text_window.ts), which checks its UTF-8 as it reads. */
  constructor(
    input: Uint8Array | TextWindow,
    readonly file: string,
  ) {
    if (input instanceof TextWindow) {
      this.window = input;
      this.bytes = input.bytes;
    } else {
      this.window = null;
      this.bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
      // Invalid UTF-8 fails here, naming its line, as any text input does.
      if (!isUtf8(this.bytes)) decodeUtf8(this.bytes, file);
    }
    this.header = this.readHeader();
    this.more = this.openSection(1);
  }

  /** The specials and the words sent so far with the chunks (all of them once lexing is done). */
  get vocabWords(): string[] {
    return this.vocab.words;
  }

  private next(): boolean {
    let bytes = this.bytes;
    let end = this.pos < bytes.length ? bytes.indexOf(10, this.pos) : -1;
    // No newline before the window's end: the line continues in the bytes not read yet.
    while (end < 0 && this.window && this.window.refill(this.pos, this.line + 1)) {
      const searched = bytes.length - this.pos;
      bytes = this.bytes = this.window.bytes;
      this.pos = 0;
      end = bytes.indexOf(10, searched);
    }
    if (this.pos >= bytes.length) return false;
    if (end < 0) end = bytes.length;
    this.start = this.pos;
    this.end = end > this.pos && bytes[end - 1] === 13 ? end - 1 : end;
    this.pos = end + 1;
    this.line++;
    return true;
  }

  private nextContent(): boolean {
    while (this.next()) {
      for (let i = this.start; i < this.end; i++) if (!isBlank(this.bytes[i]!)) return true;
    }
    return false;
  }

  private text(): string {
    return this.bytes.toString('utf8', this.start, this.end);
  }

  private fail(message: string, hint?: string): never {
    throw new InputError(message, this.file, this.line, hint ?? 'the ARPA file is damaged; rebuild it or check how it was written');
  }

  private readHeader(): ArpaHeader {
    let more = this.nextContent();
    while (more && this.text().trim() !== '\\data\\') more = this.nextContent();
    if (!more) this.fail('missing \\data\\ header: this is not an ARPA file', 'pass an ARPA language model, e.g. one written by `dbslm build`');
    const declared: number[] = [0];
    let s = '';
    for (more = this.nextContent(); more && (s = this.text()).startsWith('ngram '); more = this.nextContent()) {
      const m = /^ngram\s+(\d+)\s*=\s*(\d+)\s*$/.exec(s);
      if (!m) this.fail(`malformed header line "${s}" (expected "ngram K=COUNT")`);
      const k = Number(m[1]);
      if (k !== declared.length) this.fail(`header lists order ${k} where order ${declared.length} was expected`);
      declared.push(Number(m[2]));
    }
    if (declared.length < 2) this.fail('the \\data\\ header declares no n-gram counts');
    if (!more) this.fail('missing section \\1-grams: (the header declares ' + declared[1] + ' entries)');
    // The current line is the first after the header: the \1-grams: line, checked by openSection.
    this.pos = this.start;
    this.line--;
    return { order: declared.length - 1, declared };
  }

  /** Checks the section header of order k on the next content line; true if entries may follow. */
  private openSection(k: number): boolean {
    const declared = this.header.declared;
    if (!this.nextContent()) this.fail(`missing section \\${k}-grams: (the header declares ${declared[k]} entries)`);
    if (this.text().trim() !== `\\${k}-grams:`) this.fail(`expected section header \\${k}-grams: but found "${this.text()}"`);
    this.section = k;
    this.seen = 0;
    return this.nextContent();
  }

  /** Ends section k at the current line (a backslash line, or the end of the file). */
  private closeSection(): void {
    const k = this.section;
    if (this.seen !== this.header.declared[k]) this.fail(`section \\${k}-grams: has ${this.seen} entries but the \\data\\ header declares ${this.header.declared[k]}`);
  }

  /** End of the field the last number() read. */
  private fieldEnd = 0;

  /** The number in the field starting at bytes[from] (`what` names it in the error if it is none). */
  private number(from: number, end: number, what: string): number {
    const bytes = this.bytes;
    let value = readDecimal(bytes, from, end);
    let stop = decimalEnd;
    if (stop < 0 || (stop < end && !isBlank(bytes[stop]!))) {
      // Not a plain decimal ending at a blank: read the whole field as Number() reads text.
      for (stop = from; stop < end && !isBlank(bytes[stop]!); stop++);
      value = parseDecimal(bytes, from, stop);
      if (Number.isNaN(value)) this.fail(`malformed ARPA entry: ${what} "${bytes.toString('utf8', from, stop)}" is not a number`);
    }
    this.fieldEnd = stop;
    return value;
  }

  /** Fields in bytes[from, end) (for messages about lines with too many). */
  private countFields(from: number, end: number): number {
    let fields = 0;
    for (let i = from; i < end; ) {
      while (i < end && isBlank(this.bytes[i]!)) i++;
      if (i < end) fields++;
      while (i < end && !isBlank(this.bytes[i]!)) i++;
    }
    return fields;
  }

  /**
   * The next chunk of records, or null after \end\. `memory`: the buffer of a chunk the caller
   * is done with, to lex into again: an order-5 model's 28 chunks of 3.6 MB each were otherwise
   * fresh memory, faulted in on the lexing thread and collected as garbage on the loading thread.
   */
  nextChunk(maxEntries = CHUNK_ENTRIES, memory?: ArrayBuffer): ArpaChunk | null {
    const order = this.header.order;
    for (;;) {
      const k = this.section;
      if (k === 0) return null;
      const chunk = this.lexSection(k, maxEntries, memory);
      if (chunk.count > 0) return chunk;
      // The section ended at the current line.
      this.closeSection();
      if (k < order) {
        if (!this.more) this.fail(`missing section \\${k + 1}-grams: (the header declares ${this.header.declared[k + 1]} entries)`);
        // openSection reads the header line again: the current line.
        this.pos = this.start;
        this.line--;
        this.more = this.openSection(k + 1);
      } else {
        if (!this.more || this.text().trim() !== '\\end\\') this.fail(!this.more ? 'missing \\end\\ at the end of the file (truncated?)' : `expected \\end\\ but found "${this.text()}"`);
        this.section = 0;
      }
    }
  }

  private lexSection(k: number, maxEntries: number, memory?: ArrayBuffer): ArpaChunk {
    const words = this.words;
    const order = this.header.order;
    const cap = Math.min(maxEntries, Math.max(1, this.header.declared[k]! - this.seen + 1));
    // One buffer for all of a chunk's arrays, the float64 ones first (8-byte aligned), sized for
    // the longest records so that any later section can lex into it again.
    const size = (n: number, perRecord: number): number => n * (8 + 8 + 4 * perRecord + 4 + 16);
    const buffer = memory && memory.byteLength >= size(cap, k) ? memory : new ArrayBuffer(size(Math.max(cap, maxEntries), order));
    const logProb = new Float64Array(buffer, 0, cap);
    const backoff = new Float64Array(buffer, 8 * cap, cap);
    const ids = new Int32Array(buffer, 16 * cap, cap * k);
    const lines = new Int32Array(buffer, (16 + 4 * k) * cap, cap);
    const keys = new Int32Array(buffer, (20 + 4 * k) * cap, cap * 4);
    let count = 0;
    for (; this.more && count < cap; this.more = this.nextContent()) {
      // One pass over the line's bytes: each number is read, and each word hashed, as it is scanned.
      // (Read from this.bytes at each line: a window on a file moves when it reads more.)
      const bytes = this.bytes;
      const end = this.end;
      let i = this.start;
      while (isBlank(bytes[i]!)) i++;
      if (bytes[i] === 92) break; // a backslash line ends the section
      const prob = this.number(i, end, 'log10 probability');
      for (i = this.fieldEnd; i < end && isBlank(bytes[i]!); i++);
      for (let j = 0; j < k; j++) {
        if (i >= end) this.fail(`malformed ARPA entry: a ${k}-gram entry has ${j} words: "${this.text()}"`);
        const from = i;
        let h = FNV_OFFSET;
        // (Bytes above 32 are never blanks: most bytes take one comparison.)
        for (let c = bytes[i]!; i < end && (c > 32 || !isBlank(c)); c = bytes[++i]!) h = Math.imul(h ^ c, FNV_PRIME);
        ids[count * k + j] = words.idOfHashed(bytes, from, i, h & 0x7fffffff);
        while (i < end && isBlank(bytes[i]!)) i++;
      }
      let bo = 0;
      // The backoff: on a well-formed line a plain decimal followed by nothing but blanks, read in
      // one pass; anything else takes the checks below, which name what is wrong.
      let plain = false;
      if (i < end && k < order) {
        bo = readDecimal(bytes, i, end);
        let stop = decimalEnd;
        if (stop >= 0) while (stop < end && isBlank(bytes[stop]!)) stop++;
        plain = stop === end;
      }
      if (i < end && !plain) {
        const rest = this.countFields(i, end);
        if (rest > 1) this.fail(`malformed ARPA entry: too many fields: "${this.text()}"`);
        if (k === order) this.fail(`malformed ARPA entry: a highest-order entry has a backoff: "${this.text()}"`);
        bo = this.number(i, end, 'backoff');
      }
      let h1 = KEY_SEED1;
      let h2 = KEY_SEED2;
      for (let j = 0; j < k - 1; j++) {
        h1 = keyStep1(h1, ids[count * k + j]!);
        h2 = keyStep2(h2, ids[count * k + j]!);
      }
      keys[count * 4] = finishKey(h1);
      keys[count * 4 + 1] = finishKey(h2);
      keys[count * 4 + 2] = finishKey(keyStep1(h1, ids[count * k + k - 1]!));
      keys[count * 4 + 3] = finishKey(keyStep2(h2, ids[count * k + k - 1]!));
      logProb[count] = prob;
      backoff[count] = bo;
      lines[count] = this.line;
      count++;
      this.seen++;
    }
    const newWords = this.vocab.words.slice(this.wordsSent);
    this.wordsSent = this.vocab.words.length;
    return { order: k, count, ids: ids.subarray(0, count * k), logProb: logProb.subarray(0, count), backoff: backoff.subarray(0, count), lines: lines.subarray(0, count), newWords, keys: keys.subarray(0, count * 4), buffer };
  }
}
