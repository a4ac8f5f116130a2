// The decoder's model source for a model in the store (the layout of store/model/layout.ts, as
// the pipeline's materialise stage and `dbslm store import` write it). A context's followers are
// one range in the fork that owns the context. Its backoff is its own n-gram's value, a row of its
// prefix's range (the context without its last word): the range the previous token read as one of
// its contexts, so each range is read with its rows' backoffs and a context's backoff comes from
// the cache, not from a get per context in another fork. Ranges asked for together (every length
// of a history, backoff_levels.ts; the positions of a Level 3 draft) are read with one scan-packed
// per owning actor, so a token costs one round trip when its ranges are not cached, whatever their
// number. The rows come packed (word id, log10 p and backoff per row, one blob per range): a key
// and a value object per row cost most of a cold token on both ends.
//
// The cache is keyed by the model's version: refresh() re-reads the meta, and a model written
// again since (a new pipeline run, an import with --replace) empties the cache and the vocabulary,
// so a re-materialised model is never served stale.
import { BOS, UNK } from '../model/vocab.js';
import type { ModelMeta } from '../schemas/model_meta.js';
import { BatchedLookups } from '../store/client/batched_lookups.js';
import type { StoreClient } from '../store/client/client.js';
import { contextPrefix } from '../store/model/layout.js';
import { readVocab } from '../store/model/read_model.js';
import { requireModelMeta } from '../store/model/stored_meta.js';
import { followerOrder, permuted, type ContextFollowers, type ContextSource } from './context_source.js';
import type { VocabView } from './generate_text.js';

/** Contexts kept per source; a long chat touches a few thousand. */
const CACHE_LIMIT = 200_000;

/**
 * A follower's row as the decoder reads it (scan-packed): the last 4 bytes of its key (the word
 * id, big-endian) and its value (log10 p and log10 backoff, f64le each).
 */
const WORD_BYTES = 4;
const VALUE_BYTES = 16;
const ROW_BYTES = WORD_BYTES + VALUE_BYTES;

/** A context's stored range: its followers (backoff 0 here) and each follower's own backoff. */
interface StoredRange {
  /** Most probable first; at the root without <s>, which is a row there but never predicted. */
  followers: ContextFollowers;
  /** log10 backoff of each follower's n-gram, aligned with followers.words. */
  backoffs: Float64Array;
  /** The root range's <s> row's backoff (the context [<s>]'s); undefined elsewhere. */
  bosBackoff: number | undefined;
  /** What followers() answers for this range's context, once asked (null: not a context of the model). */
  answer?: ContextFollowers | null;
}

/** The stored row of `word` in `range`: its n-gram's backoff, or undefined when not stored. */
function backoffOf(range: StoredRange, word: number): number | undefined {
  if (word === BOS && range.bosBackoff !== undefined) return range.bosBackoff;
  const at = range.followers.words.indexOf(word);
  return at < 0 ? undefined : range.backoffs[at];
}

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
  /** Context ranges read from the store (cache misses: a context's own, and its prefix's for its backoff). */
  storeReads: number;
}

export class StoreContextSource implements ContextSource {
  readonly stats: SourceStats = { lookups: 0, storeReads: 0 };
  private ranges = this.newRanges();

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
    const source = new StoreContextSource(client, model, where, meta, new WordList([]));
    await source.readModelWide(meta);
    return source;
  }

  /**
   * The vocabulary and the unigram range, read together: both are model-wide (every history backs
   * off to the unigrams), and the unigrams' rows (one per word) are then not the first token's wait.
   */
  private async readModelWide(meta: ModelMeta): Promise<void> {
    const [words] = await Promise.all([readVocab(this.client, this.model, meta.vocabSize), this.ranges.get([])]);
    this.vocab = new WordList(words);
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
    this.ranges.clear();
    await this.readModelWide(meta);
    this.meta = meta;
    return true;
  }

  /** Whether the context's ranges are answered (a read under way still costs its wait). */
  isCached(context: readonly number[]): boolean {
    return this.ranges.answered(context) !== undefined && (context.length === 0 || this.ranges.answered(context.slice(0, -1)) !== undefined);
  }

  /** The context's followers, with its backoff from its row in its prefix's range. */
  async followers(context: readonly number[]): Promise<ContextFollowers | null> {
    this.stats.lookups++;
    const answered = this.answeredFollowers(context);
    if (answered !== undefined) return answered;
    if (context.length === 0) return (await this.ranges.get(context)).followers;
    const [own, parent] = await Promise.all([this.ranges.get(context), this.ranges.get(context.slice(0, -1))]);
    return answerOf(own, parent, context);
  }

  /** followers(context) when its ranges are answered, without waiting; undefined when they are not. */
  followersNow(context: readonly number[]): ContextFollowers | null | undefined {
    const answered = this.answeredFollowers(context);
    if (answered !== undefined) this.stats.lookups++;
    return answered;
  }

  private answeredFollowers(context: readonly number[]): ContextFollowers | null | undefined {
    const own = this.ranges.answered(context)?.value;
    if (own === undefined) return undefined;
    if (context.length === 0) return own.followers;
    if (own.answer !== undefined) return own.answer;
    const parent = this.ranges.answered(context.slice(0, -1))?.value;
    return parent === undefined ? undefined : answerOf(own, parent, context);
  }

  /** Ranges asked for together are read with one scan-packed per owning actor, however many. */
  private newRanges(): BatchedLookups<StoredRange> {
    return new BatchedLookups(async (contexts) => {
      this.stats.storeReads += contexts.length;
      const ranges = await this.client.multiScanPacked(
        contexts.map((c) => contextPrefix(this.model, c)),
        WORD_BYTES,
        VALUE_BYTES,
      );
      return contexts.map((c, i) => rangeOf(ranges[i]!, c.length === 0));
    }, CACHE_LIMIT);
  }
}

/** What followers() answers for `context`, given its range and its prefix's (kept with the range). */
function answerOf(own: StoredRange, parent: StoredRange, context: readonly number[]): ContextFollowers | null {
  // One answer object per context while its range is cached, as a model file's source keeps:
  // the controlled draw (sparse_target.ts) caches a position's explicit words by its longest
  // context's object, and a new object per call made every controlled token rebuild them.
  if (own.answer !== undefined) return own.answer;
  const backoff = backoffOf(parent, context[context.length - 1]!);
  // Null: neither an n-gram nor a context of the model.
  own.answer = backoff === undefined && own.followers.words.length === 0 ? null : { words: own.followers.words, logProbs: own.followers.logProbs, backoff: backoff ?? 0 };
  return own.answer;
}

/** A range from its packed rows (see ROW_BYTES); at the root, <s> is set apart. */
function rangeOf(rows: Buffer, root: boolean): StoredRange {
  const count = rows.length / ROW_BYTES;
  const words = new Int32Array(count);
  const logProbs = new Float64Array(count);
  const backoffs = new Float64Array(count);
  readRows(rows, words, logProbs, backoffs);
  let order = followerOrder(words, logProbs);
  let bosBackoff: number | undefined;
  const bosAt = root ? words.indexOf(BOS) : -1;
  if (bosAt >= 0) {
    bosBackoff = backoffs[bosAt];
    order = order.filter((at) => at !== bosAt);
  }
  return { followers: { words: permuted(words, order), logProbs: permuted(logProbs, order), backoff: 0 }, backoffs: permuted(backoffs, order), bosBackoff };
}

/**
 * The rows into the arrays, in their order. Its own function, ending with its loop: the first range
 * read is the unigrams' (a row per word), whose loop V8 compiles while it runs (on-stack
 * replacement), before any code after the loop has run. With rangeOf's code after the loop in the
 * same function, that compiled code lacked type feedback there and, in some runs, bailed out on
 * every later range (~2,400 deoptimisations in a 2,469-token cold run, --trace-deopt).
 */
function readRows(rows: Buffer, words: Int32Array, logProbs: Float64Array, backoffs: Float64Array): void {
  for (let i = 0, at = 0; at < rows.length; i++, at += ROW_BYTES) {
    words[i] = rows.readUInt32BE(at);
    logProbs[i] = rows.readDoubleLE(at + WORD_BYTES);
    backoffs[i] = rows.readDoubleLE(at + WORD_BYTES + 8);
  }
}
