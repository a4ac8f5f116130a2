// Text -> a flat stream of word ids, one record per line, each wrapped as <s> w1 ... wn </s>.
// Records are kept apart by the <s> that opens each one: counting resets its history there, so no
// n-gram ever crosses a record boundary.
import { isUtf8 } from 'node:buffer';
import { ByteWordIndex, FNV_OFFSET, FNV_PRIME } from './byte_words.js';
import { InputError, lineOf } from './errors.js';
import { getTokenizer, type TokenizerName } from './tokenizer.js';
import { sharedInt32 } from './shared_arrays.js';
import { BOS, EOS, Vocab } from './vocab.js';

/** Corpus ids as they are read (shared: the ARPA writer's second thread reads them as NgramPaths, shared_arrays.ts). */
export class IdStream {
  ids: Int32Array;
  length = 0;
  sentences = 0;

  /** `capacity`: the ids expected (it grows past them as needed; memory never written is never touched). */
  constructor(capacity = 1 << 16) {
    this.ids = sharedInt32(Math.max(1024, Math.ceil(capacity)));
  }

  push(id: number): void {
    if (this.length === this.ids.length) this.reserve(1);
    this.ids[this.length++] = id;
  }

  /** Appends a run of ids. */
  append(ids: Int32Array): void {
    this.reserve(ids.length);
    this.ids.set(ids, this.length);
    this.length += ids.length;
  }

  /** Room for `more` ids after the current ones, doubling the buffer as often as needed. */
  private reserve(more: number): void {
    if (this.length + more <= this.ids.length) return;
    let size = this.ids.length * 2;
    while (size < this.length + more) size *= 2;
    const bigger = sharedInt32(size);
    bigger.set(this.view);
    this.ids = bigger;
  }

  get view(): Int32Array {
    return this.ids.subarray(0, this.length);
  }

  /** Empties it for the next piece of a corpus read in pieces, keeping the array it grew. */
  clear(): void {
    this.length = 0;
    this.sentences = 0;
  }
}

/**
 * Decodes UTF-8, or fails naming the line of the first invalid byte. `firstLine`: the line number
 * of the first line of `bytes` in `file`, when they are a piece of it (the bounded build reads so).
 */
export function decodeUtf8(bytes: Uint8Array, file: string, firstLine = 1): string {
  if (isUtf8(bytes)) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  const at = firstInvalidUtf8(bytes);
  throw new InputError(
    `invalid UTF-8 (byte 0x${bytes[at].toString(16).padStart(2, '0')} at offset ${at})`,
    file,
    firstLine - 1 + lineOf(bytes, at),
    'convert the file to UTF-8, e.g. `iconv -f latin1 -t utf-8 FILE`',
  );
}

/** Byte index of the first byte that does not start valid UTF-8 (0 when all is valid); the pipeline's read stage reports it per line. */
export function firstInvalidUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    const n = c < 0x80 ? 0 : c >= 0xc2 && c < 0xe0 ? 1 : c >= 0xe0 && c < 0xf0 ? 2 : c >= 0xf0 && c < 0xf5 ? 3 : -1;
    if (n < 0) return i;
    for (let j = 1; j <= n; j++) if (i + j >= b.length || (b[i + j] & 0xc0) !== 0x80) return i;
    if (n > 0 && !isUtf8(b.subarray(i, i + n + 1))) return i; // overlongs and surrogates
    i += n + 1;
  }
  return 0;
}

function isSeparator(c: number): boolean {
  // lmplz splits on space, tab, CR and NUL; newline ends a record.
  return c === 32 || c === 9 || c === 13 || c === 0;
}

function rejectSpecial(word: string, file: string, text: Uint8Array, at: number, firstLine: number): never {
  throw new InputError(
    `the token ${word} is reserved (it marks sentence starts, ends and unknown words)`,
    file,
    firstLine - 1 + lineOf(text, at),
    'remove it from the training text or replace it, as KenLM also refuses it',
  );
}

/** Each vocabulary's index by bytes, kept beside it (byte_words.ts). */
const wordIndexes = new WeakMap<Vocab, ByteWordIndex>();

/** The index by bytes of `vocab`'s words, caught up with any it was given elsewhere since. */
function wordIndexOf(vocab: Vocab): ByteWordIndex {
  let index = wordIndexes.get(vocab);
  if (index) index.sync();
  else wordIndexes.set(vocab, (index = new ByteWordIndex(vocab)));
  return index;
}

/**
 * Appends the records of `text` (UTF-8 bytes, or a string) to `out`, splitting on whitespace
 * exactly as KenLM does. As in lmplz, a last line without a final newline gets no </s>.
 * `firstLine`: as decodeUtf8's. Words are found by their bytes (byte_words.ts): no string is made
 * but of a new word, once; a string and a Map lookup per word was most of the time a build took
 * to read KJV (870k words).
 */
export function readWhitespace(text: string | Uint8Array, file: string, vocab: Vocab, out: IdStream, firstLine = 1): void {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  // Invalid UTF-8 fails here, naming its line, as any text input does.
  if (typeof text !== 'string' && !isUtf8(bytes)) decodeUtf8(bytes, file, firstLine);
  const words = wordIndexOf(vocab);
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    out.push(BOS);
    out.sentences++;
    let ended = false;
    while (i < n) {
      let c = bytes[i]!;
      if (c === 10) {
        i++;
        ended = true;
        break;
      }
      if (isSeparator(c)) {
        i++;
        continue;
      }
      const start = i;
      let h = FNV_OFFSET;
      do {
        h = Math.imul(h ^ c, FNV_PRIME);
        c = bytes[++i]!;
      } while (i < n && c !== 10 && !isSeparator(c));
      const id = words.idOfHashed(bytes, start, i, h & 0x7fffffff);
      // The specials' ids: a word of the text that is one of them.
      if (id < 3) rejectSpecial(vocab.word(id), file, bytes, start, firstLine);
      out.push(id);
    }
    if (ended) out.push(EOS);
  }
}

/** Appends records tokenized by any line tokenizer (used for raw text). */
export function readTokenized(
  text: string,
  file: string,
  tokenize: (line: string) => string[],
  vocab: Vocab,
  out: IdStream,
  firstLine = 1,
): void {
  const lines = text.split('\n');
  const last = lines.length - 1;
  for (let ln = 0; ln < lines.length; ln++) {
    if (ln === last && lines[ln] === '') break; // the final newline closes the last record
    out.push(BOS);
    out.sentences++;
    for (const word of tokenize(lines[ln])) {
      if (Vocab.isSpecial(word)) {
        throw new InputError(`the token ${word} is reserved`, file, firstLine + ln, 'remove it from the training text');
      }
      out.push(vocab.intern(word));
    }
    if (ln < last) out.push(EOS);
  }
}

/**
 * `bytes` in slices of about `size` bytes, each but the last ending just after a newline (so each
 * holds whole records, read alone as they would be in the whole, and no character is cut), with
 * the line number of its first line.
 */
export function* byteSlices(bytes: Uint8Array, size: number, firstLine = 1): Generator<{ bytes: Uint8Array; firstLine: number }> {
  let line = firstLine;
  for (let from = 0; from < bytes.length; ) {
    let end = bytes.indexOf(10, Math.min(from + size, bytes.length) - 1);
    end = end < 0 ? bytes.length : end + 1;
    const slice = bytes.subarray(from, end);
    yield { bytes: slice, firstLine: line };
    for (let i = slice.indexOf(10); i >= 0; i = slice.indexOf(10, i + 1)) line++;
    from = end;
  }
}

/** Appends the records of `bytes` (UTF-8) split by the named tokenizer (`firstLine`: as decodeUtf8's). */
export function readRecords(bytes: Uint8Array, file: string, tokenizer: TokenizerName, vocab: Vocab, out: IdStream, firstLine = 1): void {
  if (tokenizer === 'whitespace') readWhitespace(bytes, file, vocab, out, firstLine);
  else readTokenized(decodeUtf8(bytes, file, firstLine), file, getTokenizer(tokenizer), vocab, out, firstLine);
}
