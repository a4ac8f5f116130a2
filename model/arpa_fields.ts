// Byte-level pieces of reading ARPA text (arpa_read.ts): which bytes separate fields, and decimal
// numbers parsed straight from the bytes. An order-5 model is 1.8M lines; making a JS string of
// each line, each field and each number was most of the time `ppl` spent loading it.

/** ASCII blanks between fields: space, tab, \v, \f and the \r of CRLF files. */
export function isBlank(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 11 || c === 12;
}

/** Exact powers of ten (every one up to 1e22 is a double exactly). */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * The number written in bytes[from, to), exactly as Number() reads that text, or NaN where the text
 * is not a finite number. Plain decimals (sign, digits making a safe integer, a fraction, an exponent:
 * every number KenLM and dbslm write) take the fast path: m * 10^e or m / 10^-e with m < 2^53 and
 * |e| <= 22 is one correctly rounded operation on exact operands, which is the correctly rounded
 * value Number() gives (Clinger's fast path). Anything else is handed to Number() itself.
 */
export function parseDecimal(bytes: Uint8Array, from: number, to: number): number {
  const value = readDecimal(bytes, from, to);
  return decimalEnd === to ? value : slowNumber(bytes, from, to);
}

/** Where the last readDecimal stopped: the byte after the number it read. */
export let decimalEnd = 0;

/**
 * Reads the plain decimal that starts at bytes[from] (before `limit`), stopping at the first byte
 * that cannot continue it, and leaves that position in `decimalEnd`. The value is exact (see
 * parseDecimal) when the number took the fast path; otherwise NaN, and the caller reads the field
 * with parseDecimal, which hands it to Number().
 */
export function readDecimal(bytes: Uint8Array, from: number, limit: number): number {
  const to = limit;
  let i = from;
  let c = i < to ? bytes[i]! : -1;
  let negative = false;
  if (c === 45 || c === 43) {
    negative = c === 45;
    c = ++i < to ? bytes[i]! : -1;
  }
  // Every digit goes into the mantissa: it is exact while it stays a safe integer (leading zeros
  // add nothing), which is checked once at the end rather than by counting significant digits.
  let mantissa = 0;
  let exponent = 0;
  let digits = 0;
  for (; c >= 48 && c <= 57; c = ++i < to ? bytes[i]! : -1, digits++) mantissa = mantissa * 10 + (c - 48);
  if (c === 46) {
    for (c = ++i < to ? bytes[i]! : -1; c >= 48 && c <= 57; c = ++i < to ? bytes[i]! : -1, digits++, exponent--) mantissa = mantissa * 10 + (c - 48);
  }
  if (digits > 0 && (c === 101 || c === 69)) {
    i++;
    let expNegative = false;
    if (i < to && (bytes[i] === 45 || bytes[i] === 43)) expNegative = bytes[i++] === 45;
    let e = 0;
    const start = i;
    for (; i < to && bytes[i]! >= 48 && bytes[i]! <= 57 && e < 1e6; i++) e = e * 10 + (bytes[i]! - 48);
    if (i === start) {
      decimalEnd = -1;
      return Number.NaN;
    }
    exponent += expNegative ? -e : e;
  }
  decimalEnd = i;
  if (digits === 0 || mantissa > Number.MAX_SAFE_INTEGER || exponent > 22 || exponent < -22) {
    decimalEnd = -1;
    return Number.NaN;
  }
  const value = exponent >= 0 ? mantissa * POW10[exponent]! : mantissa / POW10[-exponent]!;
  return negative ? -value : value;
}

function slowNumber(bytes: Uint8Array, from: number, to: number): number {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('latin1');
  const value = Number(text);
  return text.trim() === '' || !Number.isFinite(value) ? Number.NaN : value;
}
