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
import { ByteSink } from './byte_sink.js';
import { writeFloat32 } from './float32_text.js';

const TAB = 9;
const NL = 10;
const SPACE = 32;

/**
 * What formatting needs of a model, as plain arrays so it can be shared with a worker thread and
 * formatted in parts there (cli/io/arpa_parallel.ts).
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

/** How formatEntries hands out its chunks. */
export interface ChunkOptions {
  /** Roughly the size of a chunk (1 MB). */
  chunkBytes?: number;
  /**
   * The sink to format into, emptied, for a caller that writes each chunk out before asking for the
   * next (a `reuse` sink: one buffer for every chunk) and may format many ranges with it one after
   * another (cli/io/arpa_parallel.ts's blocks: a buffer of its own for each was ~35 MB of fresh
   * memory and garbage for KJV order 5). Overrides chunkBytes.
   */
  sink?: ByteSink;
}

/**
 * The entries of order k whose node ids lie in [from, to) (for k = 1, positions in the unigram
 * list), as byte chunks.
 */
export function* formatEntries(t: ArpaTables, k: number, from: number, to: number, options: ChunkOptions = {}): Generator<Buffer> {
  const { parent, word, logProb, backoff, order, nodeOrder } = t;
  const wordBytes = wordBytesOf(t.words);
  const sink = options.sink ?? new ByteSink(options.chunkBytes ?? 1 << 20);
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
  if (sink.pending()) yield sink.take();
}

/**
 * The vocabulary's words as UTF-8 in one array, each followed by a newline (no word holds one):
 * word w is text[start[w] .. start[w + 1] - 1). Made from one string of them all: a Buffer per word
 * cost a formatting thread ~50 ms of its cold start on KJV's 13k words.
 */
class WordBytes {
  readonly text: Uint8Array;
  readonly start: Int32Array;
  constructor(words: readonly string[]) {
    this.text = Buffer.from(words.length === 0 ? '' : words.join('\n') + '\n', 'utf8');
    this.start = new Int32Array(words.length + 1);
    let w = 0;
    for (let i = 0; i < this.text.length; i++) if (this.text[i] === NL) this.start[++w] = i + 1;
    if (w !== words.length) throw new Error(`a word of the vocabulary holds a newline (${w} lines for ${words.length} words)`);
  }
}

/** The WordBytes of each vocabulary (formatEntries is called for every block of a section). */
const wordBytesMade = new WeakMap<readonly string[], WordBytes>();

function wordBytesOf(words: readonly string[]): WordBytes {
  let made = wordBytesMade.get(words);
  // (A vocabulary that grew since is made again.)
  if (!made || made.start.length !== words.length + 1) wordBytesMade.set(words, (made = new WordBytes(words)));
  return made;
}

/**
 * One entry line: log10 p, the k words of ids[at .. at + k), and below the highest order the
 * backoff (0 after </s>, which is never a context).
 */
function writeEntry(sink: ByteSink, words: WordBytes, ids: ArrayLike<number>, at: number, k: number, order: number, logProb: number, backoff: number): void {
  writeFloat32(sink, logProb);
  const { text, start } = words;
  let length = 0;
  for (let i = 0; i < k; i++) length += start[ids[at + i] + 1] - start[ids[at + i]] - 1;
  // Room for the whole entry once, then plain indexed writes.
  sink.ensure(length + k + 48);
  const buf = sink.buf;
  let pos = sink.pos;
  buf[pos++] = TAB;
  for (let i = 0; i < k; i++) {
    if (i > 0) buf[pos++] = SPACE;
    const word = ids[at + i];
    // Byte loop: Buffer#set costs more than the copy itself for words of a few bytes.
    for (let j = start[word], end = start[word + 1] - 1; j < end; j++) buf[pos++] = text[j];
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
  private readonly wordBytes: WordBytes;
  constructor(
    words: readonly string[],
    private readonly order: number,
    chunkBytes = 1 << 20,
  ) {
    this.sink = new ByteSink(chunkBytes);
    this.wordBytes = wordBytesOf(words);
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
