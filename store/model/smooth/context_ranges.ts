// Scan pages of `<model>.stat` (stat_keys.ts) regrouped into context ranges: every key of one
// context h is contiguous in its fork (one routing prefix), and within it the keys of one follower
// w are contiguous in tag order. A range is summarised follower by follower as it streams past (a
// RAW counter, how many LEFT keys, the STATS value, the least FIRST position), so no key is held;
// a range that continues on the next page is carried over until it ends.
//
// A reader takes one order's namespace, or every order's at once (a scan of the `<model>.stat`
// family: ranges of all orders interleave in a fork, each still contiguous); then each range's
// namespace is read from its key, and namespaces of other models that share the family's leading
// bytes (a model called `<model>.stats`, say) are skipped.
import type { Value } from '../../client/client.js';
import { ROUTING_BYTES } from '../../protocol/keys.js';
import { decodeContextStats, statFamily, statNamespace, TAG_FIRST, TAG_LEFT, TAG_RAW, TAG_STATS, type ContextStats } from '../stat_keys.js';

export interface Follower {
  word: string;
  /** The RAW counter of hw, when it has one. */
  raw: number | undefined;
  /** LEFT keys of hw: its continuation count. */
  left: number;
  /** hw's own follower statistics (written by the adjust phase), when hw is a context. */
  stats: ContextStats | undefined;
  /** The least FIRST position of w (unigram range only). */
  first: Buffer | undefined;
}

export interface ContextRange {
  /** The context's words, first word first (empty for the unigrams). */
  context: string[];
  /** The context's routing prefix bytes: each word followed by 0x00. */
  prefix: Buffer;
  followers: Follower[];
}

const HEAD_START = ROUTING_BYTES + 2;

/**
 * Feeds pages in key order (one fork's scan) and hands out the ranges they complete. `want` sees a
 * range's context length first: ranges it refuses are skipped without decoding a key.
 */
export class ContextRangeReader {
  /** The namespace's UTF-8 length for one order; null: every order, read per range. */
  private readonly nsBytes: number | null;
  private readonly family: Buffer | null;
  private head: Buffer | undefined;
  private skipping = false;
  private range: ContextRange | undefined;
  private follower: Follower | undefined;
  private followerBytes: Buffer | undefined;

  /**
   * `order`: the followers' order, whose namespace (`<model>.statK`) the pages come from; null:
   * pages of the whole family (`<model>.stat` and any order's digits).
   */
  constructor(
    model: string,
    order: number | null,
    private readonly want: (contextWords: number) => boolean = () => true,
  ) {
    this.nsBytes = order === null ? null : Buffer.byteLength(statNamespace(model, order), 'utf8');
    this.family = order === null ? Buffer.from(statFamily(model), 'utf8') : null;
  }

  /** The ranges completed by this page (the last one of the page may stay open). */
  push(keys: readonly Buffer[], values: readonly Value[]): ContextRange[] {
    const done: ContextRange[] = [];
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const headLen = HEAD_START + key.readUInt16BE(ROUTING_BYTES);
      if (!this.head || this.head.length !== headLen || key.compare(this.head, 0, headLen, 0, headLen) !== 0) {
        const closed = this.close();
        if (closed) done.push(closed);
        this.open(key, headLen);
      }
      if (!this.skipping) this.add(key, headLen, values[i]);
    }
    return done;
  }

  /** The range still open at the end of the scan, if any. */
  end(): ContextRange | undefined {
    const closed = this.close();
    this.head = undefined;
    return closed;
  }

  /** The namespace's length in this key (whose head ends at headLen); -1 when it is not one of the model's statistics namespaces. */
  private nsBytesOf(key: Buffer, headLen: number): number {
    if (this.nsBytes !== null) return this.nsBytes;
    const family = this.family!;
    const end = key.indexOf(0, HEAD_START);
    if (end < 0 || end >= headLen) return -1;
    if (end - HEAD_START <= family.length || key.compare(family, 0, family.length, HEAD_START, HEAD_START + family.length) !== 0) return -1;
    for (let j = HEAD_START + family.length; j < end; j++) if (key[j]! < 0x30 || key[j]! > 0x39) return -1;
    return end - HEAD_START;
  }

  private open(key: Buffer, headLen: number): void {
    this.head = Buffer.from(key.subarray(0, headLen));
    const nsBytes = this.nsBytesOf(key, headLen);
    const prefix = key.subarray(HEAD_START + nsBytes + 1, headLen);
    let words = 0;
    for (let j = 0; j < prefix.length; j++) if (prefix[j] === 0) words++;
    this.skipping = nsBytes < 0 || !this.want(words);
    if (this.skipping) return;
    const context: string[] = [];
    for (let start = 0; start < prefix.length; ) {
      const end = prefix.indexOf(0, start);
      context.push(prefix.toString('utf8', start, end));
      start = end + 1;
    }
    this.range = { context, prefix: Buffer.from(prefix), followers: [] };
  }

  private close(): ContextRange | undefined {
    const range = this.range;
    if (range && this.follower) range.followers.push(this.follower);
    this.range = undefined;
    this.follower = undefined;
    this.followerBytes = undefined;
    return range;
  }

  private add(key: Buffer, headLen: number, value: Value): void {
    const rest = key.subarray(headLen);
    const nul = rest.indexOf(0);
    if (nul < 1 || nul + 1 >= rest.length) throw new Error(`stat key 0x${key.toString('hex')}: its follower is not a word, 0x00 and a tag`);
    const wordBytes = rest.subarray(0, nul);
    if (!this.followerBytes || !this.followerBytes.equals(wordBytes)) {
      if (this.follower) this.range!.followers.push(this.follower);
      this.followerBytes = Buffer.from(wordBytes);
      this.follower = { word: wordBytes.toString('utf8'), raw: undefined, left: 0, stats: undefined, first: undefined };
    }
    const f = this.follower!;
    const tag = rest[nul + 1]!;
    if (tag === TAG_LEFT) f.left++;
    else if (tag === TAG_RAW) {
      if (typeof value === 'bigint') f.raw = Number(value);
      else if (value !== undefined) throw new Error(`stat key 0x${key.toString('hex')} (RAW of ${f.word}) holds bytes, not a counter`);
    } else if (tag === TAG_STATS) {
      if (value instanceof Buffer) f.stats = decodeContextStats(value);
    } else if (tag === TAG_FIRST) f.first ??= Buffer.from(rest.subarray(nul + 2));
    else throw new Error(`stat key 0x${key.toString('hex')} has tag ${tag}; the layout has 1-4 (store/model/stat_keys.ts)`);
  }
}
