// The decoder's model source for a model in the store (the layout of store/model/layout.ts, as
// the pipeline's materialise stage and `dbslm store import` write it). A context's followers are
// one range in the fork that owns the context; its backoff is its own n-gram's entry, in the fork
// of its prefix. Contexts asked for together (every length of a history, backoff_levels.ts; the
// positions of a Level 3 draft) are read together: one scan-packed and one multi-get per actor, so
// a token costs one round trip when its contexts are not cached, whatever their number. The
// followers come packed (word id and log10 p per row, one blob per context): a key and a value
// object per row cost most of a cold token on both ends.
//
// The cache is keyed by the model's version: refresh() re-reads the meta, and a model written
// again since (a new pipeline run, an import with --replace) empties the cache and the vocabulary,
// so a re-materialised model is never served stale.
import { BOS, UNK } from '../model/vocab.js';
import type { ModelMeta } from '../schemas/model_meta.js';
import { BatchedLookups } from '../store/client/batched_lookups.js';
import type { StoreClient, Value } from '../store/client/client.js';
import { contextPrefix, decodeNgramValue, ngramKey } from '../store/model/layout.js';
import { readVocab } from '../store/model/read_model.js';
import { requireModelMeta } from '../store/model/stored_meta.js';
import { sortFollowers, type ContextFollowers, type ContextSource } from './context_source.js';
import type { VocabView } from './generate_text.js';

/** Contexts kept per source; a long chat touches a few thousand. */
const CACHE_LIMIT = 200_000;

/**
 * A follower's row as the decoder reads it (scan-packed): the last 4 bytes of its key (the word
 * id, big-endian) and the first 8 of its value (log10 p, f64le; the backoff after it is the
 * follower's own, which only its own context's read needs).
 */
const WORD_BYTES = 4;
const LOG_PROB_BYTES = 8;
const ROW_BYTES = WORD_BYTES + LOG_PROB_BYTES;

/** A vocabulary read from the store: ids to words and back. */
export class WordList implements VocabView {
  private readonly ids: Map<string, number>;
  constructor(readonly words: readonly string[]) {
    this.ids = new Map(words.map((w, i) => [w, i]));
  }
  get size(): number {
    return this.words.length;
  }
  lookup(word: string): number {
    return this.ids.get(word) ?? UNK;
  }
  word(id: number): string {
    return this.words[id] ?? '<unk>';
  }
}

export interface SourceStats {
  /** Contexts asked for. */
  lookups: number;
  /** Of those, answered by the store (cache misses). */
  storeReads: number;
}

export class StoreContextSource implements ContextSource {
  readonly stats: SourceStats = { lookups: 0, storeReads: 0 };
  private lookups = this.newLookups();

  private constructor(
    private readonly client: StoreClient,
    readonly model: string,
    private readonly where: string,
    public meta: ModelMeta,
    public vocab: WordList,
  ) {}

  /** The source of model `model`; a missing or unfinished model is an error saying how to make one. */
  static async open(client: StoreClient, model: string, where: string): Promise<StoreContextSource> {
    const meta = await requireModelMeta(client, model, where);
    return new StoreContextSource(client, model, where, meta, new WordList(await readVocab(client, model, meta.vocabSize)));
  }

  get order(): number {
    return this.meta.order;
  }
  get vocabSize(): number {
    return this.meta.vocabSize;
  }

  /** Re-reads the meta; when the model was written again, drops the cache and reloads the vocabulary. Resolves true then. */
  async refresh(): Promise<boolean> {
    const meta = await requireModelMeta(this.client, this.model, this.where);
    if (meta.version === this.meta.version) return false;
    this.vocab = new WordList(await readVocab(this.client, this.model, meta.vocabSize));
    this.meta = meta;
    this.lookups.clear();
    return true;
  }

  /** Whether the context's read is answered (a read under way still costs its wait). */
  isCached(context: readonly number[]): boolean {
    return this.lookups.answered(context) !== undefined;
  }

  followers(context: readonly number[]): Promise<ContextFollowers | null> {
    this.stats.lookups++;
    return this.lookups.get(context);
  }

  /**
   * Contexts asked for together (all lengths of a history, a draft's positions) are read with one
   * scan-packed and one multi-get per owning actor, however many (a context's followers are one range
   * in the fork of the context; its backoff is its own n-gram's entry, in the fork of its prefix).
   */
  private newLookups(): BatchedLookups<ContextFollowers | null> {
    return new BatchedLookups(async (contexts) => {
      this.stats.storeReads += contexts.length;
      const withBackoff = contexts.filter((c) => c.length > 0);
      const [ranges, entries] = await Promise.all([
        this.client.multiScanPacked(contexts.map((c) => contextPrefix(this.model, c)), WORD_BYTES, LOG_PROB_BYTES),
        this.client.multiGet(withBackoff.map((c) => ngramKey(this.model, c))),
      ]);
      const backoffs = new Map(withBackoff.map((c, i) => [c, entries[i]]));
      return contexts.map((c, i) => this.followersOf(c, ranges[i]!, backoffs.get(c)));
    }, CACHE_LIMIT);
  }

  /** The followers of `context` from its packed rows (word id, then log10 p: see newLookups). */
  private followersOf(context: readonly number[], rows: Buffer, entry: Value): ContextFollowers | null {
    const count = rows.length / ROW_BYTES;
    const words = new Int32Array(count);
    const logProbs = new Float64Array(count);
    let n = 0;
    for (let at = 0; at < rows.length; at += ROW_BYTES) {
      const word = rows.readUInt32BE(at);
      // <s> is stored as a unigram (p = 1 by convention) but is never predicted.
      if (context.length === 0 && word === BOS) continue;
      words[n] = word;
      logProbs[n++] = rows.readDoubleLE(at + WORD_BYTES);
    }
    if (entry !== undefined && !(entry instanceof Buffer)) throw new Error(`an n-gram of model ${this.model} holds a counter, not log10 p and backoff`);
    if (context.length > 0 && entry === undefined && n === 0) return null;
    const backoff = entry instanceof Buffer ? decodeNgramValue(entry).backoff : 0;
    return sortFollowers(words.subarray(0, n), logProbs.subarray(0, n), backoff);
  }
}
