// The decoder's model source for a model in the store (the layout of store/model/layout.ts, as
// the pipeline's materialise stage and `dbslm store import` write it). A context's followers are
// one range scan in the fork that owns the context; its backoff is its own entry, in the fork of
// its own context; the lengths of a history are fetched at once (backoff_levels.ts), so a token
// costs one round trip when its contexts are not cached.
//
// The cache is keyed by the model's version: refresh() re-reads the meta, and a model written
// again since (a new pipeline run, an import with --replace) empties the cache and the vocabulary,
// so a re-materialised model is never served stale.
import { BOS, UNK } from '../model/vocab.js';
import type { ModelMeta } from '../schemas/model_meta.js';
import type { StoreClient } from '../store/client/client.js';
import { contextPrefix, decodeNgramValue, ngramKey } from '../store/model/layout.js';
import { readVocab } from '../store/model/read_model.js';
import { requireModelMeta } from '../store/model/stored_meta.js';
import { sortFollowers, type ContextFollowers, type ContextSource } from './context_source.js';
import type { VocabView } from './generate_text.js';

/** Contexts kept per source; a long chat touches a few thousand. */
const CACHE_LIMIT = 200_000;

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
  private cache = new Map<string, Promise<ContextFollowers | null>>();

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
    this.cache = new Map();
    return true;
  }

  isCached(context: readonly number[]): boolean {
    return this.cache.has(context.join(' '));
  }

  followers(context: readonly number[]): Promise<ContextFollowers | null> {
    this.stats.lookups++;
    const key = context.join(' ');
    let found = this.cache.get(key);
    if (!found) {
      if (this.cache.size >= CACHE_LIMIT) this.cache = new Map();
      found = this.read(context);
      // A failed read is not cached: the next lookup asks the store again.
      found.catch(() => this.cache.delete(key));
      this.cache.set(key, found);
    }
    return found;
  }

  private async read(context: readonly number[]): Promise<ContextFollowers | null> {
    this.stats.storeReads++;
    const own = context.length === 0 ? Promise.resolve(undefined) : this.client.get(ngramKey(this.model, context));
    const words: number[] = [];
    const logProbs: number[] = [];
    for await (const { key, value } of this.client.scan(contextPrefix(this.model, context), { pageSize: 10000 })) {
      if (!(value instanceof Buffer)) throw new Error(`an n-gram of model ${this.model} holds a counter, not log10 p and backoff`);
      const word = key.readUInt32BE(key.length - 4);
      // <s> is stored as a unigram (p = 1 by convention) but is never predicted.
      if (context.length === 0 && word === BOS) continue;
      words.push(word);
      logProbs.push(decodeNgramValue(value).logProb);
    }
    const entry = await own;
    if (context.length > 0 && entry === undefined && words.length === 0) return null;
    const backoff = entry instanceof Buffer ? decodeNgramValue(entry).backoff : 0;
    return sortFollowers(Int32Array.from(words), Float64Array.from(logProbs), backoff);
  }
}
