// Text read against a model becomes word ids here, split by the tokenizer the model was built
// with (--tokenizer). Every command that scores or looks up text goes through this one path, so
// none can split text differently from the others or from `build`.
import { isUtf8 } from 'node:buffer';
import { FNV_OFFSET, FNV_PRIME, type ByteWordIndex } from './byte_words.js';
import { decodeUtf8 } from './corpus_read.js';
import { tokenizeWhitespace } from './tokenizer.js';
import { BOS, BOS_TOKEN, UNK, type Vocab } from './vocab.js';

/** A line tokenizer, as model/tokenizer.ts getTokenizer returns it. */
export type LineTokenizer = (line: string) => string[];

/** The ids of a line's words; a word the model does not know is <unk>. */
export function lineToIds(vocab: Vocab, tokenize: LineTokenizer, line: string): number[] {
  return tokenize(line).map((word) => vocab.lookup(word));
}

/**
 * The words of a history a user typed (topk --context), where a space-separated `<s>` stands for
 * the sentence start whatever the tokenizer: the regex tokenizer would split it into `<`, `s`, `>`.
 * Splitting on whitespace first changes nothing else: no token of either tokenizer holds a space.
 * (`topk --connect` looks these words up in the store's vocabulary.)
 */
export function historyWords(tokenize: LineTokenizer, history: string): string[] {
  return tokenizeWhitespace(history).flatMap((part) => (part === BOS_TOKEN ? [BOS_TOKEN] : tokenize(part)));
}

/** The ids of historyWords (an unknown word is <unk>, `<s>` is the sentence start). */
export function historyToIds(vocab: Vocab, tokenize: LineTokenizer, history: string): number[] {
  return historyWords(tokenize, history).map((word) => (word === BOS_TOKEN ? BOS : vocab.lookup(word)));
}

/** Bytes tokenizeWhitespace splits on, besides the newline that ends a line. */
const isBlank = (c: number): boolean => c === 32 || c === 9 || c === 13 || c === 0 || c === 11 || c === 12;

/**
 * The word ids of every line of `bytes` (UTF-8 text read by lines, as readLines reads it), split as
 * tokenizeWhitespace splits and looked up by their bytes in `words`, an unknown word being <unk>:
 * line i's are ids[ends[i - 1] .. ends[i]) (from 0 for the first). No string is made: for `ppl`
 * of a binary model, a string and a Map lookup per word was more time than reading the model.
 */
export function whitespaceLineIds(bytes: Uint8Array, file: string, words: ByteWordIndex): { ids: Int32Array; ends: Int32Array } {
  if (!isUtf8(bytes)) decodeUtf8(bytes, file); // fails naming the line, as readLines does
  const n = bytes.length;
  let lines = 0;
  for (let at = bytes.indexOf(10); at >= 0; at = bytes.indexOf(10, at + 1)) lines++;
  if (n > 0 && bytes[n - 1] !== 10) lines++; // a last line without its newline
  const ids = new Int32Array((n >> 1) + 1);
  const ends = new Int32Array(lines);
  let count = 0;
  let line = 0;
  for (let i = 0; i < n; ) {
    let c = bytes[i]!;
    if (c === 10) {
      ends[line++] = count;
      i++;
      continue;
    }
    if (isBlank(c)) {
      i++;
      continue;
    }
    const from = i;
    let h = FNV_OFFSET;
    do {
      h = Math.imul(h ^ c, FNV_PRIME);
      c = bytes[++i]!;
    } while (i < n && c !== 10 && !isBlank(c));
    const id = words.find(bytes, from, i, h & 0x7fffffff);
    ids[count++] = id < 0 ? UNK : id;
  }
  if (line < lines) ends[line] = count;
  return { ids, ends };
}
