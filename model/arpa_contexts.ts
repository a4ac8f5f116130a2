// Where an ARPA record's n-gram goes: the node (trie, arpa_read.ts) or slot (probing tables,
// arpa_query_index.ts) of its context, the first k - 1 words. Tried in order of cost:
//   - the context of the record before (files sorted by context repeat it);
//   - its 64-bit key among the previous order's entries (ngram_key.ts, computed on the lexing
//     thread), trusted when the entry found has the context's last word: one lookup;
//   - a walk from the context's first word, creating blank (prefix-only) places where the file
//     lists none: k - 1 lookups, in the suffix order KenLM writes nearly every record's.
// One implementation for both places a record can go; they differ only in `step` and `lastWord`.
import type { ArpaChunk } from './arpa_lex.js';
import { ContextKeys } from './context_keys.js';

export interface ContextPlaces {
  /** The place of (parent place, word) at order `k` (k = 1: parent is the root), created blank if missing. */
  step(k: number, parent: number, word: number): number;
}

export class ArpaContexts {
  private readonly context: Int32Array;
  private lastOrder = 0;
  private lastParent = -1;
  /** The previous order's entries by key, and this order's (the next one's contexts). */
  private contextKeys: ContextKeys | null = null;
  private entryKeys: ContextKeys | null = null;
  /** Each order's key table, made (and cleared) up front: loading starts before the records arrive. */
  private readonly keysOfOrder: (ContextKeys | null)[] = [null];

  constructor(
    private readonly order: number,
    private readonly declared: readonly number[],
    private readonly places: ContextPlaces,
    /** The place of the root (the empty context). */
    private readonly root: number,
  ) {
    this.context = new Int32Array(order);
    for (let k = 1; k < order; k++) this.keysOfOrder.push(new ContextKeys(declared[k]!));
  }

  /** Starts the records of a chunk (a new section resets what is remembered). */
  begin(chunk: ArpaChunk): void {
    const k = chunk.order;
    if (k === this.lastOrder) return;
    this.lastOrder = k;
    this.lastParent = -1;
    this.contextKeys = this.entryKeys;
    this.entryKeys = this.keysOfOrder[k] ?? null;
    this.keysOfOrder[k] = null; // (freed with contextKeys after the next order)
  }

  /**
   * Reads ahead the key cells that records [from, to) will look up and add. Each record's lookups
   * miss the cache (tables of tens of MB, reached at random); read one after another, a batch's
   * misses overlap, where each record's own misses wait on each other. Returns a value made of
   * what was read, for the caller to keep, so that the reads stay.
   */
  warm(chunk: ArpaChunk, from: number, to: number): number {
    const { keys } = chunk;
    let seen = 0;
    if (this.contextKeys) for (let r = from; r < to; r++) seen ^= this.contextKeys.touch(keys[r * 4]!, keys[r * 4 + 1]!);
    if (this.entryKeys) for (let r = from; r < to; r++) seen ^= this.entryKeys.touch(keys[r * 4 + 2]!, keys[r * 4 + 3]!);
    return seen;
  }

  /** The place of record r's context. */
  parentOf(chunk: ArpaChunk, r: number): number {
    const { order: k, ids, keys } = chunk;
    if (k === 1) return this.root;
    const at = r * k;
    const context = this.context;
    let same = this.lastParent >= 0;
    for (let j = 0; j < k - 1 && same; j++) same = ids[at + j] === context[j];
    if (same) return this.lastParent;
    if (this.contextKeys) {
      const found = this.contextKeys.get(keys[r * 4]!, keys[r * 4 + 1]!, ids[at + k - 2]!);
      if (found >= 0) return found;
    }
    let parent = this.root;
    for (let j = 0; j < k - 1; j++) {
      parent = this.places.step(j + 1, parent, ids[at + j]!);
      context[j] = ids[at + j]!;
    }
    this.lastParent = parent;
    return parent;
  }

  /** Record r was placed at `place` (so the next order finds it as a context by its key). */
  placed(chunk: ArpaChunk, r: number, place: number): void {
    // Two entries with one key: the next order finds every context by walking.
    const k = chunk.order;
    if (this.entryKeys && !this.entryKeys.add(chunk.keys[r * 4 + 2]!, chunk.keys[r * 4 + 3]!, place, chunk.ids[r * k + k - 1]!)) this.entryKeys = null;
  }
}
