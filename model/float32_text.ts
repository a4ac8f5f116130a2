// Float32 values as the shortest decimal text that reads back as the same float32: what KenLM
// prints in ARPA files and what every ARPA consumer stores.
//
// The order-5 KJV model holds 2.9M such numbers but only 1.2M distinct ones (its 1.1M backoffs
// take fewer than 10,000 values), so formatted texts are kept in a small cache keyed by the
// float32's bits, and a repeated value is a copy of a few bytes instead of a search for digits.
import { ByteSink } from './byte_sink.js';

const POW10 = Array.from({ length: 23 }, (_, i) => Math.pow(10, i));
const MINUS = 45;
const DOT = 46;
const ZERO = 48;

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

/** Slots of the cache of formatted texts, a power of two: 64K slots (1.4 MB) caught 51% of the KJV order-5 model's numbers (59% repeat). */
const CACHE_BITS = 16;
/** Longest text kept: "-0.00012345678" is 14 bytes; longer ones (exponents far from 0) are rare. */
const CACHED_BYTES = 16;
/** A signalling NaN's bits: converting a double never yields it, so it marks a slot that holds nothing. */
const EMPTY = 0x7fbfffff;
const cacheKey = new Int32Array(1 << CACHE_BITS).fill(EMPTY);
const cacheLength = new Uint8Array(1 << CACHE_BITS);
const cacheText = new Uint8Array((1 << CACHE_BITS) * CACHED_BYTES);
const float32 = new Float32Array(1);
const float32Bits = new Int32Array(float32.buffer);

/**
 * Writes the shortest decimal that reads back as the same float32 as v: a copy of the text from
 * the cache when this float32 was formatted lately, else formatted (and then cached).
 */
export function writeFloat32(sink: ByteSink, v: number): void {
  sink.ensure(40);
  float32[0] = v;
  const key = float32Bits[0];
  // Fibonacci hashing: log-probs of nearby n-grams differ in their low bits.
  const slot = Math.imul(key, 0x9e3779b1) >>> (32 - CACHE_BITS);
  const buf = sink.buf;
  let pos = sink.pos;
  let from = slot * CACHED_BYTES;
  if (cacheKey[slot] === key) {
    for (const end = from + cacheLength[slot]; from < end; from++) buf[pos++] = cacheText[from];
    sink.pos = pos;
    return;
  }
  formatFloat32Into(sink, v);
  const length = sink.pos - pos;
  if (length > CACHED_BYTES) return;
  cacheKey[slot] = key;
  cacheLength[slot] = length;
  for (const end = pos + length; pos < end; pos++) cacheText[from++] = buf[pos];
}

/**
 * Formats v's shortest decimal into the sink, which has room for it. Digits come from integer
 * rounding checked by an exact division (powers of ten up to 1e22 are exact doubles, so m / 10^x
 * is the correctly rounded double of the decimal m·10^-x, just as Number() would read it).
 */
function formatFloat32Into(sink: ByteSink, v: number): void {
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
