// ARPA text output. Unigrams in vocabulary-id order (as lmplz lists them), higher orders in node
// order. Numbers are written as the shortest text that reads back to the same float32, which is
// what KenLM prints and what every ARPA consumer stores.
//
// Written straight into byte buffers: an order-5 KJV model is 70 MB of text holding 3.6M numbers,
// and building JS strings for it cost twice as long as the whole estimation.
import type { NgramPaths } from './corpus_count.js';
import type { LanguageModel } from './language_model.js';
import { ROOT } from './ngram_trie.js';
import { EOS } from './vocab.js';

const POW10 = Array.from({ length: 23 }, (_, i) => Math.pow(10, i));
const TAB = 9;
const NL = 10;
const SPACE = 32;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;

/** A growing run of bytes handed out in chunks. */
class ByteSink {
  buf: Buffer;
  pos = 0;
  constructor(readonly chunk: number) {
    this.buf = Buffer.allocUnsafe(chunk + 4096);
  }
  /** True once a chunk's worth is written; callers take() between entries. */
  full(): boolean {
    return this.pos >= this.chunk;
  }
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.pos));
    this.pos = 0;
    return out;
  }
  ascii(s: string): void {
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }
  /** Makes room for n more bytes (number formatting writes digits by index). */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }
  private grow(n: number): void {
    const b = Buffer.allocUnsafe(this.buf.length * 2 + n);
    this.buf.copy(b, 0, 0, this.pos);
    this.buf = b;
  }
}

/** shortestDecimal's answer: the digits m, the point x places from the right, and the double m·10^-x reads as. */
let decM = 0;
let decX = 0;
let decBack = 0;

/**
 * Finds the shortest decimal (7 to 9 significant digits) m·10^-x that reads back as the float32
 * a > 0 of decimal exponent e, into decM/decX/decBack; false when none is found this way.
 */
function shortestDecimal(a: number, e: number): boolean {
  for (let p = 7; p <= 9; p++) {
    const x = p - 1 - e;
    let m: number;
    let back: number;
    if (x >= 0) {
      // a * 10^x is exact here (24 + 2.33x bits fit a double's 53 for x <= 12), so a fraction of
      // exactly .5 is a true tie between two shortest texts: take the even one, as KenLM does.
      const scaled = a * POW10[x];
      m = Math.round(scaled);
      if (m - scaled === 0.5 && m % 2 === 1) m -= 1;
      back = m / POW10[x];
    } else {
      m = Math.round(a / POW10[-x]);
      back = m * POW10[-x];
    }
    if (Math.fround(back) === a) {
      decM = m;
      decX = x;
      decBack = back;
      return true;
    }
  }
  return false;
}

/**
 * The double that v's ARPA text reads back as (Number() of what writeFloat32 writes), without
 * formatting it: what a model holds once written to ARPA and loaded again.
 */
export function arpaReadBack(v: number): number {
  if (v === 0) return 0; // the text "0" reads back as +0, whatever the sign of the zero
  if (Number.isNaN(v)) return v;
  const f = Math.fround(v);
  const a = f < 0 ? -f : f;
  const e = Math.floor(Math.log10(a));
  if (e < -12 || e > 12 || !Number.isFinite(a) || !shortestDecimal(a, e)) return Number(formatFloat32(v));
  return f < 0 ? -decBack : decBack;
}

/**
 * Writes the shortest decimal that reads back as the same float32. Digits come from integer
 * rounding checked by an exact division (powers of ten up to 1e22 are exact doubles, so m / 10^x
 * is the correctly rounded double of the decimal m·10^-x, just as Number() would read it).
 */
function writeFloat32(sink: ByteSink, v: number): void {
  sink.ensure(40);
  if (v === 0) {
    sink.buf[sink.pos++] = ZERO;
    return;
  }
  const f = Math.fround(v);
  const a = f < 0 ? -f : f;
  const e = Math.floor(Math.log10(a));
  if (e < -12 || e > 12 || !Number.isFinite(a) || !shortestDecimal(a, e)) return sink.ascii(formatFloat32(v));
  const m = decM;
  let x = decX;
  // Drop trailing zero digits below the decimal point. m < 1e9 < 2^31, so int maths is exact.
  let t = m | 0;
  while (x > 0 && t % 10 === 0) {
    t = (t / 10) | 0;
    x--;
  }
  let digits = 1;
  for (let u = (t / 10) | 0; u > 0; u = (u / 10) | 0) digits++;
  const buf = sink.buf;
  let pos = sink.pos;
  if (f < 0) buf[pos++] = MINUS;
  const intDigits = digits - x; // digits before the point; <= 0 means "0.00ddd"
  if (intDigits <= 0) {
    buf[pos++] = ZERO;
    buf[pos++] = DOT;
    for (let i = 0; i < -intDigits; i++) buf[pos++] = ZERO;
  }
  // Digits are written from the last, stepping over the point's place.
  const dot = intDigits > 0 && x > 0 ? pos + intDigits : -1;
  const end = pos + digits + (dot >= 0 ? 1 : 0);
  for (let i = end - 1; i >= pos; i--) {
    if (i === dot) {
      buf[i] = DOT;
      continue;
    }
    buf[i] = ZERO + (t % 10);
    t = (t / 10) | 0;
  }
  pos = end;
  for (let i = 0; i < -x; i++) buf[pos++] = ZERO;
  sink.pos = pos;
}

/**
 * The same text as a string (for tests, messages and the rare out-of-range value). toPrecision
 * breaks a tie between two p-digit texts towards the larger; KenLM (double-conversion) and
 * writeFloat32 take the even last digit, so an exact tie is re-rounded from the exact digits.
 */
export function formatFloat32(v: number): string {
  if (v === 0) return '0';
  const f = Math.fround(v);
  let s = f.toPrecision(9);
  for (let p = 1; p < 9; p++) {
    const t = f.toPrecision(p);
    if (Math.fround(Number(t)) === f) {
      s = evenOnTie(f, p, t);
      break;
    }
  }
  if (s.includes('e')) return String(Number(s));
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/** `rounded` (|f| to p significant digits, ties away from zero), or f cut to p digits when f lies exactly halfway and the cut ends even. */
function evenOnTie(f: number, p: number, rounded: string): string {
  const exact = Math.abs(f).toExponential(100); // every float32 in range has a shorter exact expansion
  const e = exact.indexOf('e');
  const digits = exact.slice(0, e).replace('.', '');
  if (digits[p] !== '5' || !/^0*$/.test(digits.slice(p + 1))) return rounded;
  if (Number(digits[p - 1]) % 2 === 1) return rounded; // the cut ends odd, so toPrecision's rounding up ends even
  const cut = Number(`${f < 0 ? '-' : ''}${digits[0]}.${digits.slice(1, p)}e${exact.slice(e + 1)}`);
  return cut.toPrecision(p);
}

/** For tests: the text writeFloat32 produces. */
export function formatFloat32Fast(v: number): string {
  const sink = new ByteSink(64);
  writeFloat32(sink, v);
  return sink.buf.toString('latin1', 0, sink.pos);
}

/**
 * What formatting needs of a model, as plain arrays so it can be copied to a worker thread and
 * formatted in parts there (pipeline/arpa_parallel.ts).
 */
export interface ArpaTables {
  order: number;
  words: string[];
  parent: Int32Array;
  word: Int32Array;
  nodeOrder: Uint8Array;
  logProb: Float64Array;
  backoff: Float64Array;
  size: number;
  /** Unigram nodes in vocabulary-id order (the order lmplz lists them in). */
  unigrams: Int32Array;
  /** Where the n-grams' words lie in the corpus, from counting: read there rather than by walking parents. */
  paths?: NgramPaths;
}

export function arpaTables(lm: LanguageModel, paths?: NgramPaths): ArpaTables {
  const { trie, vocab } = lm;
  const unigrams: number[] = [];
  for (let w = 0; w < vocab.size; w++) {
    const n = trie.find(ROOT, w);
    if (n >= 0) unigrams.push(n);
  }
  return {
    order: lm.order,
    words: vocab.words,
    parent: trie.parent,
    word: trie.word,
    nodeOrder: trie.order,
    logProb: lm.logProb,
    backoff: lm.backoff,
    size: trie.size,
    unigrams: Int32Array.from(unigrams),
    paths,
  };
}

export function arpaHeader(counts: number[]): string {
  let out = '\\data\\\n';
  for (let k = 1; k < counts.length; k++) out += `ngram ${k}=${counts[k]}\n`;
  return out;
}

export const sectionHeader = (k: number): string => `\n\\${k}-grams:\n`;
export const ARPA_END = '\n\\end\\\n';

/**
 * The entries of order k whose node ids lie in [from, to) (for k = 1, positions in the unigram
 * list), as byte chunks of roughly `chunkBytes`.
 */
export function* formatEntries(t: ArpaTables, k: number, from: number, to: number, chunkBytes = 1 << 20): Generator<Buffer> {
  const { parent, word, logProb, backoff, order, nodeOrder } = t;
  const wordBytes = t.words.map((w) => Buffer.from(w, 'utf8'));
  const sink = new ByteSink(chunkBytes);
  const path = new Int32Array(order);
  const corpus = t.paths?.ids;
  const end = t.paths?.end;
  const emit = (n: number): void => {
    if (Number.isNaN(logProb[n])) return;
    if (corpus !== undefined && end !== undefined && k > 1) return writeEntry(sink, wordBytes, corpus, end[n] - k + 1, k, order, logProb[n], backoff[n]);
    let m = n;
    for (let i = k - 1; i >= 0; i--, m = parent[m]) path[i] = word[m];
    writeEntry(sink, wordBytes, path, 0, k, order, logProb[n], backoff[n]);
  };
  if (k === 1) {
    for (let i = from; i < to; i++) {
      emit(t.unigrams[i]);
      if (sink.full()) yield sink.take();
    }
  } else {
    for (let n = from; n < to; n++) {
      if (nodeOrder[n] !== k) continue;
      emit(n);
      if (sink.full()) yield sink.take();
    }
  }
  if (sink.pos > 0) yield sink.take();
}

/**
 * One entry line: log10 p, the k words of ids[at .. at + k), and below the highest order the
 * backoff (0 after </s>, which is never a context).
 */
function writeEntry(sink: ByteSink, wordBytes: readonly Buffer[], ids: ArrayLike<number>, at: number, k: number, order: number, logProb: number, backoff: number): void {
  writeFloat32(sink, logProb);
  let length = 0;
  for (let i = 0; i < k; i++) length += wordBytes[ids[at + i]].length;
  // Room for the whole entry once, then plain indexed writes.
  sink.ensure(length + k + 48);
  const buf = sink.buf;
  let pos = sink.pos;
  buf[pos++] = TAB;
  for (let i = 0; i < k; i++) {
    if (i > 0) buf[pos++] = SPACE;
    const b = wordBytes[ids[at + i]];
    // Byte loop: Buffer#set costs more than the copy itself for words of a few bytes.
    if (b.length < 24) for (let j = 0; j < b.length; j++) buf[pos++] = b[j];
    else {
      buf.set(b, pos);
      pos += b.length;
    }
  }
  if (k < order) {
    buf[pos++] = TAB;
    sink.pos = pos;
    writeFloat32(sink, ids[at + k - 1] === EOS ? 0 : backoff);
    pos = sink.pos;
  }
  sink.buf[pos++] = NL;
  sink.pos = pos;
}

/**
 * Entry lines formatted one at a time from word ids, for writers that hold no trie (the store's
 * streamed export, store/model/arpa_export.ts), into byte chunks of roughly `chunkBytes`.
 */
export class ArpaEntrySink {
  private readonly sink: ByteSink;
  private readonly wordBytes: Buffer[];
  constructor(
    words: readonly string[],
    private readonly order: number,
    chunkBytes = 1 << 20,
  ) {
    this.sink = new ByteSink(chunkBytes);
    this.wordBytes = words.map((w) => Buffer.from(w, 'utf8'));
  }

  /** The k-gram of ids[at .. at + k), as writeEntry formats it. */
  entry(ids: ArrayLike<number>, at: number, k: number, logProb: number, backoff: number): void {
    writeEntry(this.sink, this.wordBytes, ids, at, k, this.order, logProb, backoff);
  }

  /** True once a chunk's worth is formatted: take() it. */
  full(): boolean {
    return this.sink.full();
  }

  /** What is formatted so far (possibly empty), the sink emptied. */
  take(): Buffer {
    return this.sink.take();
  }
}

/** Yields the whole ARPA file as byte chunks, formatted on this thread. */
export function* arpaChunks(lm: LanguageModel, counts: number[]): Generator<Buffer | string> {
  const t = arpaTables(lm);
  yield arpaHeader(counts);
  for (let k = 1; k <= lm.order; k++) {
    yield sectionHeader(k);
    yield* formatEntries(t, k, k === 1 ? 0 : 1, k === 1 ? t.unigrams.length : t.size);
  }
  yield ARPA_END;
}
