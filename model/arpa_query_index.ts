// The scoring tables (query_index.ts) built straight from ARPA records (arpa_lex.ts), without the
// trie: what `ppl` needs of an ARPA file, as KenLM's query builds its probing tables while it reads.
// The trie build, its suffix links and the copy into these tables were most of ppl's loading time
// besides lexing. The slots are also kept in the order the file lists their n-grams (as a binary
// model keeps them), so the trie can still be rebuilt if something else needs it
// (binary/rebuild.ts), byte-identical to reading the file into a trie.
import type { ArpaChunk } from './arpa_lex.js';
import { ArpaContexts } from './arpa_contexts.js';
import { ARPA_TABLE_LOAD } from './context_keys.js';
import { InputError } from './errors.js';
import { hash } from './ngram_trie.js';
import { homeSlot, slotsFor, slotStride, type QueryIndex } from './query_index.js';
import { UNK, Vocab } from './vocab.js';

const EMPTY = -1;
/** Records whose cache misses are let overlap (add): enough to fill the CPU's queue of misses. */
const BATCH = 64;
/**
 * Tables at most 70% full, as their context keys (buildQueryIndex's are half full; a binary
 * model's 3/4): an order-5 KJV model's `ppl` peaked at ~400 MB with half-full tables and ~330 MB
 * so, scoring as fast (a binary model's 3/4-full tables score as fast as half-full ones: bench:query);
 * sized to the declared entries rather than to a power of two (query_index.ts homeSlot).
 */
const MAX_LOAD = ARPA_TABLE_LOAD;

/** A table of order k would be over 3/4 full: read the file into a trie instead (arpa_read.ts). */
export class TablesFull extends Error {
  constructor(readonly order: number) {
    super(`the order-${order} table is over 3/4 full: the file lists fewer ${order}-grams than it uses as prefixes`);
  }
}

export interface ScoringTables {
  vocab: Vocab;
  index: QueryIndex;
  /** nodeSlots[k] (k >= 2): every slot of order k, in the order a trie would have created its node. */
  nodeSlots: Int32Array[];
}

export class ArpaQueryIndexBuilder {
  private readonly vocab = new Vocab();
  private readonly tables: Int32Array[] = [new Int32Array(0)];
  private readonly values: Float64Array[] = [new Float64Array(0)];
  private readonly slotCounts: number[] = [0, 0];
  private readonly strides: number[] = [0];
  /** Unigram slot w (by word id): its probability and backoff; `present[w]` when it has a node. */
  private unigrams = new Float64Array(0);
  private present = new Uint8Array(0);
  private readonly nodeSlots: Int32Array[] = [new Int32Array(0), new Int32Array(0)];
  private readonly filled: number[];
  private readonly contexts: ArpaContexts;
  private readonly batchParents = new Int32Array(BATCH);
  /** Each record's home slot in its order's table, found while reading the batch ahead. */
  private readonly batchHomes = new Int32Array(BATCH);
  /** What the batches' read-ahead read (kept so that the reads are not optimised away). */
  private seen = 0;

  constructor(
    readonly file: string,
    private readonly order: number,
    declared: readonly number[],
  ) {
    for (let k = 1; k <= order; k++) this.strides.push(slotStride(k, order));
    for (let k = 2; k <= order; k++) {
      const slots = slotsFor(declared[k]!, MAX_LOAD);
      const t = new Int32Array(slots * this.strides[k]!).fill(EMPTY);
      this.tables[k] = t;
      this.values[k] = new Float64Array(t.buffer);
      this.slotCounts[k] = slots;
      this.nodeSlots[k] = new Int32Array(declared[k]! + 16);
    }
    this.filled = new Array<number>(order + 1).fill(0);
    // Unigram places are word ids (the unigram table is indexed by word); higher orders' are slots.
    this.contexts = new ArpaContexts(order, declared, {
      step: (k, parent, word) => {
        if (k === 1) {
          this.unigram(word);
          return word;
        }
        const found = this.slot(k, parent, word);
        return found >= 0 ? found : -found - 1;
      },
    }, -1);
  }

  private unigram(w: number): void {
    this.ensureUnigrams(w + 1);
    this.present[w] = 1;
  }

  private ensureUnigrams(n: number): void {
    if (n > this.present.length) {
      const size = Math.max(1024, n * 2);
      const present = new Uint8Array(size);
      present.set(this.present);
      this.present = present;
      const unigrams = new Float64Array(size * 2).fill(Number.NaN);
      unigrams.set(this.unigrams);
      for (let i = this.unigrams.length / 2; i < size; i++) unigrams[i * 2 + 1] = 0;
      this.unigrams = unigrams;
    }
  }

  /** The slot of (parent slot, word) in the table of order k, created blank (NaN) if missing; -(slot + 1) when new. */
  private slot(k: number, parent: number, word: number, home = homeSlot(hash(parent, word), this.slotCounts[k]!)): number {
    const t = this.tables[k]!;
    const slots = this.slotCounts[k]!;
    const stride = this.strides[k]!;
    for (let i = home; ; i = i + 1 === slots ? 0 : i + 1) {
      const at = i * stride;
      if (t[at] === EMPTY) {
        // Sized for the declared entries at MAX_LOAD; prefixes listed nowhere (possible, never in
        // KenLM's files) may fill it further, and past 3/4 the trie builder takes over.
        if (this.filled[k]! * 4 >= slots * 3) throw new TablesFull(k);
        t[at] = parent;
        t[at + 1] = word;
        this.values[k]![(at >> 1) + 1] = Number.NaN;
        if (k < this.order) this.values[k]![(at >> 1) + 2] = 0;
        let listed = this.nodeSlots[k]!;
        if (this.filled[k]! === listed.length) {
          listed = new Int32Array(listed.length * 2);
          listed.set(this.nodeSlots[k]!);
          this.nodeSlots[k] = listed;
        }
        listed[this.filled[k]!++] = i;
        return -i - 1;
      }
      if (t[at] === parent && t[at + 1] === word) return i;
    }
  }

  add(chunk: ArpaChunk): void {
    for (const word of chunk.newWords) this.vocab.intern(word);
    const { order: k, ids, count } = chunk;
    this.contexts.begin(chunk);
    if (k === 1) {
      for (let r = 0; r < count; r++) {
        const word = ids[r]!;
        this.unigram(word);
        if (this.unigrams[word * 2] === this.unigrams[word * 2]) this.duplicate(chunk, r);
        this.unigrams[word * 2] = chunk.logProb[r]!;
        this.unigrams[word * 2 + 1] = chunk.backoff[r]!;
        this.contexts.placed(chunk, r, word);
      }
      return;
    }
    // In batches: the key cells of the whole batch are read first, then its records' contexts
    // are found and the slots they hash to in this order's table read, and only then are the
    // records placed, so that the cache misses of a batch overlap (ArpaContexts.warm). Finding a
    // context never reads this order's table, so placing the batch later changes nothing.
    const parents = this.batchParents;
    const homes = this.batchHomes;
    const t = this.tables[k]!;
    const slots = this.slotCounts[k]!;
    const stride = this.strides[k]!;
    const values = this.values[k]!;
    for (let from = 0; from < count; from += BATCH) {
      const to = Math.min(count, from + BATCH);
      let seen = this.contexts.warm(chunk, from, to);
      for (let r = from; r < to; r++) {
        const parent = this.contexts.parentOf(chunk, r);
        parents[r - from] = parent;
        const home = homeSlot(hash(parent, ids[r * k + k - 1]!), slots);
        homes[r - from] = home;
        seen ^= t[home * stride]!;
      }
      this.seen ^= seen;
      for (let r = from; r < to; r++) {
        const found = this.slot(k, parents[r - from]!, ids[r * k + k - 1]!, homes[r - from]!);
        const slot = found >= 0 ? found : -found - 1;
        const half = (slot * stride) >> 1;
        if (found >= 0 && values[half + 1] === values[half + 1]) this.duplicate(chunk, r);
        values[half + 1] = chunk.logProb[r]!;
        if (k < this.order) values[half + 2] = chunk.backoff[r]!;
        this.contexts.placed(chunk, r, slot);
      }
    }
  }

  private duplicate(chunk: ArpaChunk, r: number): never {
    const words = Array.from(chunk.ids.subarray(r * chunk.order, (r + 1) * chunk.order), (w) => this.vocab.word(w)).join(' ');
    throw new InputError(`duplicate ARPA entry "${words}"`, this.file, chunk.lines[r], 'the ARPA file is damaged; rebuild it or check how it was written');
  }

  /** The tables, once every chunk is in. */
  finish(warn?: (message: string) => void): ScoringTables {
    const size = this.vocab.size;
    this.ensureUnigrams(size);
    if (this.unigrams[UNK * 2] !== this.unigrams[UNK * 2]) {
      warn?.(`${this.file}: the model has no <unk>; unknown words get log10 p = -100, as KenLM substitutes`);
      this.present[UNK] = 1;
      this.unigrams[UNK * 2] = -100;
    }
    const uni = new Int32Array(size * this.strides[1]!);
    const uv = new Float64Array(uni.buffer);
    const half = this.strides[1]! >> 1;
    const unigramSlot = new Int32Array(size);
    for (let w = 0; w < size; w++) {
      uv[w * half + 1] = this.present[w] ? this.unigrams[w * 2]! : Number.NaN;
      uv[w * half + 2] = this.present[w] ? this.unigrams[w * 2 + 1]! : 0;
      unigramSlot[w] = this.present[w] ? w : UNK;
    }
    this.tables[1] = uni;
    this.values[1] = uv;
    const nodeSlots = this.nodeSlots.map((slots, k) => (k >= 2 ? slots.subarray(0, this.filled[k]) : slots));
    return { vocab: this.vocab, index: { order: this.order, tables: this.tables, values: this.values, slotCounts: this.slotCounts, strides: this.strides, unigramSlot }, nodeSlots };
  }
}
