// An actor's share of each order's training statistics, held as flat typed arrays for the
// interpolation (interpolate_order.ts) to run on, so that it does not read the store's statistics
// again. The keys of every namespace are spread over a fork by the routing hash, so a scan of one
// order's namespace walks every row of the fork to find that order's (SQLite filters them, but
// reads them all), and the interpolation, order by order from the store, walked each fork once per
// order and decoded each order's keys again. The adjust pass (adjust_stats.ts) decodes every
// order's keys anyway, in its one walk: it hands each range to an OrderSplit, which keeps per
// n-gram only the follower's word id and adjusted count (12 bytes) and per context its word ids.
// The backoffs' inputs (STATS keys) are written by that same pass, so they are not in the shares:
// the interpolation reads them with its lower-order lookups, from its own database.
//
// A share holds only counts of the actor's own forks (the issue's "no process holds all the
// counts"). It is memory only: an actor that restarts has none, and splits again from its database
// (splitOrders, one walk over every order's keys).
import type { StoreClient } from '../../client/client.js';
import { statContextRange, statFamily, statNamespace, type ContextStats } from '../stat_keys.js';
import { adjustedCounts, type PhaseOptions } from './adjust_stats.js';
import { ContextRangeReader, type ContextRange } from './context_ranges.js';
import { eachFork, scanRange } from './stat_scan.js';
import type { VocabIndex } from './vocab_assign.js';

/** gamma of a context from its follower statistics, with the followers' order's discounts. */
export function gammaOf(stats: ContextStats, d: readonly number[]): number {
  return (d[1]! * stats.n1 + d[2]! * stats.n2 + d[3]! * stats.n3plus) / stats.total;
}

type TypedArray = Uint32Array | Float64Array;

/** A typed array that grows by doubling as values are pushed. */
class Column<T extends TypedArray> {
  private data: T;
  length = 0;

  constructor(private readonly make: (n: number) => T) {
    this.data = make(1024);
  }

  push(v: number): void {
    if (this.length === this.data.length) {
      const grown = this.make(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = v;
  }

  /** The values pushed, trimmed to a fresh array (the doubling's slack freed). */
  trimmed(): T {
    return this.data.slice(0, this.length) as T;
  }
}

const u32 = (n: number) => new Uint32Array(n);
const f64 = (n: number) => new Float64Array(n);

/** One order's share: its context ranges in the order split, each with its n-gram followers. */
export interface OrderShare {
  /** The order of the n-grams (followers of contexts of k - 1 words). */
  k: number;
  ranges: number;
  /** Range r's context word ids, first word first: contextIds[r * (k - 1) ..]. */
  contextIds: Uint32Array;
  /** Range r's followers are ids/a[ends[r - 1] (0 for r = 0) .. ends[r]). */
  ends: Uint32Array;
  /** Each n-gram's follower word id. */
  ids: Uint32Array;
  /** Each n-gram's adjusted count (adjust_stats.ts adjustedCount). */
  a: Float64Array;
}

/** Builds one order's share range by range. */
class ShareBuilder {
  private readonly contextIds = new Column(u32);
  private readonly ends = new Column(u32);
  private readonly ids = new Column(u32);
  private readonly a = new Column(f64);

  constructor(readonly k: number) {}

  add(adjusted: ArrayLike<number>, followerIds: ArrayLike<number>, contextIds: ArrayLike<number>): void {
    if (!followerIds.length) return;
    for (let i = 0; i < contextIds.length; i++) this.contextIds.push(contextIds[i]!);
    for (let i = 0; i < followerIds.length; i++) {
      this.ids.push(followerIds[i]!);
      this.a.push(adjusted[i]!);
    }
    this.ends.push(this.ids.length);
  }

  done(): OrderShare {
    const ends = this.ends.trimmed();
    return { k: this.k, ranges: ends.length, contextIds: this.contextIds.trimmed(), ends, ids: this.ids.trimmed(), a: this.a.trimmed() };
  }
}

/** The shares of orders from..to, fed one context range at a time (in any order), with word ids from `vocab`. */
export class OrderSplit {
  private readonly builders: ShareBuilder[] = [];

  constructor(
    private readonly vocab: VocabIndex,
    readonly from: number,
    readonly to: number,
  ) {
    for (let k = from; k <= to; k++) this.builders.push(new ShareBuilder(k));
  }

  /** Takes range `range` of order k (its n-gram followers with adjusted counts `a`, adjust_stats.ts adjustedCounts); ranges of other orders are left out. */
  add(k: number, range: ContextRange, followers: readonly { word: string }[], a: ArrayLike<number>): void {
    if (k < this.from || k > this.to || !followers.length) return;
    const { vocab } = this;
    const ids = new Uint32Array(followers.length);
    for (let i = 0; i < followers.length; i++) ids[i] = vocab.idOf(followers[i]!.word);
    this.builders[k - this.from]!.add(a, ids, range.context.map((w) => vocab.idOf(w)));
  }

  /** The shares, order from first. */
  done(): OrderShare[] {
    return this.builders.map((b) => b.done());
  }
}

/**
 * The shares of orders `from`..`to` of the statistics in `forks` of a model of order `order`, read
 * from the store: one family scan per fork when there are several orders; one order's namespace
 * when there is one (and at order 1, its one range, when it lies in these forks).
 */
export async function splitOrders(client: StoreClient, model: string, order: number, vocab: VocabIndex, forks: readonly string[], from: number, to: number, opts: PhaseOptions = {}): Promise<OrderShare[]> {
  if (!(from >= 1 && from <= to && to <= order)) throw new Error(`orders ${from}..${to} are outside 1..${order}`);
  const split = new OrderSplit(vocab, from, to);
  const onRange = (range: ContextRange): void => {
    const k = range.context.length + 1;
    if (k > order) throw new Error(`the training statistics of model ${model} hold ${k}-grams but the model's order is ${order}: smooth with the --order the text was counted with`);
    const { followers, a } = adjustedCounts(order, range);
    split.add(k, range, followers, a);
  };
  const scan = async (namespace: string, range: Buffer, family: boolean): Promise<void> => {
    const reader = new ContextRangeReader(model, family ? null : from, (words) => words + 1 >= from && words + 1 <= to);
    await scanRange(client, namespace, range, (keys, values) => {
      for (const r of reader.push(keys, values)) onRange(r);
    }, { family, local: opts.local });
    const last = reader.end();
    if (last) onRange(last);
  };
  if (from === 1 && to === 1) {
    // One context, one routing prefix: scan just it, if it is in these forks.
    const unigrams = statContextRange(model, []);
    if (forks.includes(client.map.lookup(unigrams).fork)) await scan(statNamespace(model, 1), unigrams, false);
  } else {
    const family = from < to;
    await eachFork(forks, opts.forksAtOnce ?? 2, (fork) => scan(family ? statFamily(model) : statNamespace(model, from), Buffer.from(fork, 'hex'), family));
  }
  return split.done();
}
