// ARPA text input, strict about structure so that a damaged file fails at the line that is wrong
// rather than scoring garbage. arpa_lex.ts checks the text and turns it into records; this file
// puts the records into the model's trie, refusing duplicates, and finishes the model (suffix
// links, a <unk> when the file has none). `readArpa` does both on this thread; cli/io/arpa_load.ts
// lexes on a second one.
import { ArpaContexts } from './arpa_contexts.js';
import { ArpaLexer, type ArpaChunk } from './arpa_lex.js';
import { InputError } from './errors.js';
import { indexUnigrams, type LanguageModel } from './language_model.js';
import { NgramTrie, ROOT } from './ngram_trie.js';
import { UNK, Vocab } from './vocab.js';

export interface ArpaReadOptions {
  /** Called with (entriesRead, totalEntries) now and then on long files. */
  onProgress?: (done: number, total: number) => void;
  warn?: (message: string) => void;
}

/** Builds a model from the lexer's records, chunk by chunk, in file order. */
export class ArpaModelBuilder {
  private readonly vocab = new Vocab();
  private readonly trie: NgramTrie;
  private logProb: Float64Array;
  private backoff: Float64Array;
  private readonly total: number;
  private done = 0;
  private readonly contexts: ArpaContexts;

  constructor(
    readonly file: string,
    private readonly order: number,
    declared: readonly number[],
    private readonly options: ArpaReadOptions = {},
  ) {
    this.total = declared.reduce((a, b) => a + b, 0);
    this.trie = new NgramTrie(this.total + 16);
    this.logProb = new Float64Array(this.trie.capacity).fill(Number.NaN);
    this.backoff = new Float64Array(this.trie.capacity);
    this.contexts = new ArpaContexts(order, declared, { step: (_k, parent, word) => this.child(parent, word) }, ROOT);
  }

  private grow(): void {
    const lp = new Float64Array(this.trie.capacity).fill(Number.NaN);
    lp.set(this.logProb);
    const bo = new Float64Array(this.trie.capacity);
    bo.set(this.backoff);
    this.logProb = lp;
    this.backoff = bo;
  }

  /** The child of `node` by `word`, created blank (NaN: a prefix not listed) if missing. */
  private child(node: number, word: number): number {
    const found = this.trie.findOrInsert(node, word, -1);
    if (found >= 0) return found;
    if (this.trie.capacity !== this.logProb.length) this.grow();
    return -found - 1;
  }

  add(chunk: ArpaChunk): void {
    for (const word of chunk.newWords) this.vocab.intern(word);
    const { order: k, ids, count } = chunk;
    this.contexts.begin(chunk);
    for (let r = 0; r < count; r++) {
      const node = this.child(this.contexts.parentOf(chunk, r), ids[r * k + k - 1]!);
      if (!Number.isNaN(this.logProb[node]!)) {
        const words = Array.from(ids.subarray(r * k, (r + 1) * k), (w) => this.vocab.word(w)).join(' ');
        throw new InputError(`duplicate ARPA entry "${words}"`, this.file, chunk.lines[r], 'the ARPA file is damaged; rebuild it or check how it was written');
      }
      this.logProb[node] = chunk.logProb[r]!;
      this.backoff[node] = chunk.backoff[r]!;
      this.contexts.placed(chunk, r, node);
      if (this.options.onProgress && (++this.done & 0x3ffff) === 0) this.options.onProgress(this.done, this.total);
    }
  }

  /** The model, once every chunk is in. */
  finish(): LanguageModel {
    const { trie, vocab } = this;
    trie.linkSuffixes();
    const unk = trie.find(ROOT, UNK);
    if (unk < 0 || Number.isNaN(this.logProb[unk])) {
      this.options.warn?.(`${this.file}: the model has no <unk>; unknown words get log10 p = -100, as KenLM substitutes`);
      const n = unk >= 0 ? unk : this.child(ROOT, UNK);
      this.logProb[n] = -100;
    }
    return { order: this.order, vocab, trie, logProb: this.logProb, backoff: this.backoff, unigramNode: indexUnigrams(trie, vocab) };
  }
}

/** Reads ARPA text (a string, or its UTF-8 bytes) into a model, on this thread. */
export function readArpa(input: string | Uint8Array, file: string, options: ArpaReadOptions = {}): LanguageModel {
  const lexer = new ArpaLexer(typeof input === 'string' ? Buffer.from(input, 'utf8') : input, file);
  const builder = new ArpaModelBuilder(file, lexer.header.order, lexer.header.declared, options);
  // Each chunk is read before the next is lexed, into the same memory.
  for (let chunk = lexer.nextChunk(); chunk; chunk = lexer.nextChunk(undefined, chunk.buffer)) builder.add(chunk);
  return builder.finish();
}
