// The Top-K head of one context, built and written where the model lives (model/topk.ts buildTopK
// is the in-process twin). For a context h with followers:
//
//   head(h) = the best K of h's own followers' log10 p and of head(h') re-weighted by backoff(h),
//             a word of head(h') that h has as a follower not offered again
//
// where h' is h without its first word (its head was written by the pass of the length before, in
// whatever fork it lives) and backoff(h) is h's own `<model>.p` entry's. The caller fetches head(h')
// (`suffixKey`, batched into its own multiGets) and hands it over with the followers and backoff(h):
// the pass over written n-grams (build_heads.ts, after `store import`, which fetches h's entry
// too: `ngramKeyOf`) and the interpolation of the next order (smooth/interpolate_order.ts, which
// has the followers' log10 p in hand and computes h's backoff as it was written). A suffix without
// a head of its own (only in a pruned or odd ARPA) passes to its own suffix, adding its backoff,
// as buildTopK does.
//
// Heads are written with exact float32 values (layout.ts encodeExactHead) for the next length, or
// held (held_heads.ts: the longest, which no length reads); encode_heads.ts turns them into codes
// once the codebook is known. The builder keeps the codebook
// sample of its heads (model/topk.ts HeadSample) for the driver to merge.
import { contextHash, entryHash, HeadSample, HeadSelector } from '../../../model/topk.js';
import { BOS } from '../../../model/vocab.js';
import type { StoreClient, Value } from '../../client/client.js';
import { ForkBatchWriter, type LocalBatchWriter } from '../fork_batches.js';
import type { HeldHeads } from './held_heads.js';
import { ContextPrefixes, decodeNgramValue, encodeExactHead, exactHeadEntries, ngramKey, ngramKeyAt, topkKey } from '../layout.js';

/**
 * The heads' writer: a head is K x 8 bytes (256 at K = 32), 16 times an n-gram value, so the
 * smoothing's defaults (2048 ops a batch, 262144 held back) would put tens of megabytes into one
 * flush and keep the receiving actors' event loops busy for seconds, long enough for their peers to
 * think them dead (seen at KJV order 5 with 3 actors). Batches stay small (256 heads), but about
 * 17 MB are held back: with 16384 heads (4 MB) a fork had some 64 heads at a flush, and every such
 * batch dirtied pages all over its fork (keys are spread over it by the routing hash), each written
 * to the WAL again at the next commit; four times as many heads per fork, a quarter of the commits'
 * pages.
 */
export const HEAD_WRITES = { opsPerBatch: 256, maxBuffered: 65536 } as const;

export interface HeadsPassResult {
  /** Heads written. */
  rows: number;
  /** Entries over those heads. */
  entries: number;
  sample: { hashes: Uint32Array; values: Float64Array };
}

/** The backoff in an n-gram's value; 0 for an n-gram not stored. */
export const backoffIn = (v: Value): number => (v instanceof Buffer ? decodeNgramValue(v).backoff : 0);

/** Builds and writes the heads of contexts of `length` words, one `add` per context. */
export class HeadBuilder {
  private readonly writer: ForkBatchWriter;
  private readonly best: HeadSelector;
  private readonly sample = new HeadSample();
  private readonly heads: ContextPrefixes;
  private readonly ngrams: ContextPrefixes;
  private readonly rounded: Float32Array;
  /** own[w] === generation: w is a follower of the context being built (no Set per context). */
  private own = new Uint32Array(1 << 16);
  private generation = 0;
  private rows = 0;
  private entries = 0;

  constructor(
    private readonly client: StoreClient,
    private readonly model: string,
    private readonly length: number,
    k: number,
    local?: LocalBatchWriter,
    /** Keep the heads here instead of writing them (the longest contexts' while smoothing: held_heads.ts). */
    private readonly hold?: HeldHeads,
  ) {
    this.writer = new ForkBatchWriter(client, { ...HEAD_WRITES, local });
    this.best = new HeadSelector(k);
    this.rounded = new Float32Array(k);
    this.heads = new ContextPrefixes(model, 'topk');
    this.ngrams = new ContextPrefixes(model);
  }

  /** The key of the head the head of context `ids` (length >= 1) needs: its suffix's. */
  suffixKey(ids: ArrayLike<number>): Buffer {
    return this.heads.of(ids, 1);
  }

  /** The key of context `ids` (length >= 1) as an n-gram, which holds its backoff. */
  ngramKeyOf(ids: ArrayLike<number>): Buffer {
    return ngramKeyAt(this.ngrams.of(ids, 0, ids.length - 1), ids[ids.length - 1]!);
  }

  /**
   * Builds, samples and writes the head of context `ids` from its followers (`words[i]` with log10
   * p `logProbs[i]`), the value found at its suffixKey and its backoff (both unused at length 0).
   */
  async add(ids: ArrayLike<number>, words: ArrayLike<number>, logProbs: ArrayLike<number>, suffixHead: Value, backoff: number): Promise<void> {
    const { best, length } = this;
    best.reset();
    const generation = ++this.generation;
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      this.markOwn(w, generation);
      if (!(length === 0 && w === BOS)) best.offer(w, logProbs[i]!);
    }
    if (length > 0) {
      let head = suffixHead;
      let extra = backoff;
      if (!(head instanceof Buffer)) ({ head, extra } = await this.fallBack(ids, extra));
      const own = this.own;
      for (let i = 0, n = exactHeadEntries(head); i < n; i++) {
        const w = head.readUInt32BE(8 * i);
        if (w < own.length && own[w] === generation) continue;
        best.offer(w, head.readFloatLE(8 * i + 4) + extra);
      }
    }
    const n = best.filled;
    const values = this.rounded.subarray(0, n);
    for (let i = 0; i < n; i++) values[i] = best.values[i]!;
    const hash = contextHash(ids);
    for (let i = 0; i < n; i++) this.sample.add(entryHash(hash, i), values[i]!);
    const key = this.heads.of(ids);
    const value = encodeExactHead(best.words.subarray(0, n), values);
    if (this.hold) this.hold.add(key, value);
    else this.writer.set(key, value);
    this.rows++;
    this.entries += n;
    await this.writer.ready();
  }

  /** Waits for every head written; the pass's counts and codebook sample. */
  async finish(): Promise<HeadsPassResult> {
    await this.writer.finish();
    return { rows: this.rows, entries: this.entries, sample: this.sample.entries() };
  }

  private markOwn(w: number, generation: number): void {
    if (w >= this.own.length) {
      const grown = new Uint32Array(Math.max(2 * this.own.length, w + 1));
      grown.set(this.own);
      this.own = grown;
    }
    this.own[w] = generation;
  }

  /** The head of the nearest suffix of `ids` shorter than h' that has one, when h' has none, and the backoffs passed. */
  private async fallBack(ids: ArrayLike<number>, extra: number): Promise<{ head: Buffer; extra: number }> {
    const { client, model } = this;
    for (let s = Array.from(ids).slice(1); ; ) {
      if (!s.length) throw new Error(`model ${model}: the empty context has no Top-K head, which the contexts of length ${this.length} need; the heads of length 0 did not finish: build them again`);
      extra += backoffIn(await client.get(ngramKey(model, s)));
      s = s.slice(1);
      const v = await client.get(topkKey(model, s));
      if (v instanceof Buffer) return { head: v, extra };
    }
  }
}
