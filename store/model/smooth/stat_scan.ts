// Reading one namespace fork by fork, a page at a time, with the page handler awaited before the
// handler sees the next page: the smoothing phases do store IO per page (lookups, writes), and a
// scan that ran ahead of them would buffer a fork's whole statistics. One page is fetched ahead
// while the handler works, so the actor scans while this process computes.
//
// As store/model/namespace_scan.ts: the actor's namespace filter keeps other namespaces' rows on
// the actor, redirects are followed, a fork split since the plan is scanned as its children in key
// order (a routing prefix never spans forks, so ranges stay whole).
import type { StoreClient, Value } from '../../client/client.js';
import { inRoutingOrder } from '../fork_batches.js';
import { fetchNamespacePage } from '../namespace_scan.js';

export type PageHandler = (keys: Buffer[], values: Value[]) => Promise<void> | void;

/**
 * Reads a page without a request when the range is in a fork of the process's own store actor
 * (the smoothing jobs run inside the actors: smooth_jobs.ts); undefined when it is not served
 * there now, and the page is asked for over the wire (which follows redirects and retries).
 */
export type LocalPageReader = (namespace: Buffer, range: Buffer, after: Buffer | null, opts: { pageSize: number; keysOnly?: boolean; family?: boolean; keyBytes?: number }) => Page | undefined;

/** What a LocalGetter answers for a key in a fork its actor does not serve now. */
export const NOT_LOCAL: unique symbol = Symbol('not local');

/**
 * Point reads from the database of the process's own store actor (smooth_jobs.ts): each key's
 * value, or NOT_LOCAL for a key it does not serve now; null when it serves no reads at all.
 */
export type LocalGetter = (keys: readonly Buffer[]) => (Value | typeof NOT_LOCAL)[] | null;

/** client.multiGet, the keys `local` serves read from the own actor's database and only the rest asked for. */
export async function multiGetLocal(client: StoreClient, keys: Buffer[], local?: LocalGetter): Promise<Value[]> {
  const got = local?.(keys);
  if (!got) return client.multiGet(keys);
  const unsorted: number[] = [];
  for (let i = 0; i < got.length; i++) if (got[i] === NOT_LOCAL) unsorted.push(i);
  // In routing order, as the local ones are read: the peers read them in that order too.
  const remote = Array.from(inRoutingOrder(unsorted.map((i) => keys[i]!)), (j) => unsorted[j]!);
  if (remote.length) {
    const values = await client.multiGet(remote.map((i) => keys[i]!));
    for (let j = 0; j < remote.length; j++) got[remote[j]!] = values[j];
  }
  return got as Value[];
}

export interface StatScanOptions {
  /** Rows per scan reply (at most 10000, the actor's limit). */
  pageSize?: number;
  /** Pages of the own actor's forks straight from its database. */
  local?: LocalPageReader;
  /** Only the keys (values come back undefined). */
  keysOnly?: boolean;
  /** `ns` names a family: every namespace starting with it. */
  family?: boolean;
  /** Keys of this length are all the handler wants: the own actor's pages leave the others out (a page from the wire has them all, so the handler still filters). */
  keyBytes?: number;
}

export interface Page {
  keys: Buffer[];
  values: Value[];
  next: Buffer | null;
}

/** One page of `ns` in fork range `range` after `after`; null when the range no longer lies in one fork. */
function fetchPage(client: StoreClient, namespace: Buffer, range: Buffer, after: Buffer | null, opts: StatScanOptions): Promise<Page | null> {
  const how = { pageSize: opts.pageSize ?? 10000, keysOnly: opts.keysOnly, family: opts.family };
  const local = opts.local?.(namespace, range, after, { ...how, keyBytes: opts.keyBytes });
  // A local page is at hand at once: it is handed over on the next turn, so the actor serves the
  // requests waiting meanwhile (a pass of local pages would otherwise run in one turn, for seconds).
  if (local) return new Promise((resolve) => setImmediate(() => resolve(local)));
  return fetchNamespacePage(client, namespace, range, after, how);
}

/** Every key of namespace `ns` in the routing range `range` (a fork id's bytes), in key order, page by page. */
export async function scanRange(client: StoreClient, ns: string, range: Buffer, onPage: PageHandler, opts: StatScanOptions = {}): Promise<void> {
  const namespace = Buffer.from(ns, 'utf8');
  let after: Buffer | null = null;
  let ahead = fetchPage(client, namespace, range, after, opts);
  for (;;) {
    const page = await ahead;
    if (!page) {
      // The fork split since the plan was made: its children, in key order, from the cursor on.
      const parts = client.map.forksUnder(range).sort((a, b) => (a.fork < b.fork ? -1 : 1));
      for (const part of parts) await scanRangeAfter(client, ns, Buffer.from(part.fork, 'hex'), after, onPage, opts);
      return;
    }
    if (page.next) {
      after = page.next;
      ahead = fetchPage(client, namespace, range, after, opts);
      // A failure of the page fetched ahead surfaces when it is awaited; until then it is handled.
      ahead.catch(() => undefined);
    }
    if (page.keys.length) await onPage(page.keys, page.values);
    if (!page.next) return;
  }
}

/** scanRange from a cursor (a split fork's children continue where the parent's scan stopped). */
async function scanRangeAfter(client: StoreClient, ns: string, range: Buffer, after: Buffer | null, onPage: PageHandler, opts: StatScanOptions): Promise<void> {
  if (!after) return scanRange(client, ns, range, onPage, opts);
  // Keys of a child at or before the cursor were seen already.
  return scanRange(client, ns, range, (keys, values) => {
    let from = 0;
    while (from < keys.length && Buffer.compare(keys[from]!, after) <= 0) from++;
    if (from < keys.length) return onPage(keys.slice(from), values.slice(from));
  }, opts);
}

/** Every fork id of the current map, sorted. */
export function allForks(client: StoreClient): string[] {
  return [...client.map.entries.keys()].sort();
}

/** The forks of the current map grouped by owner, each list sorted; owners sorted. */
export function forksByOwner(client: StoreClient): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of client.map.entries.values()) {
    const list = out.get(e.owner) ?? [];
    list.push(e.fork);
    out.set(e.owner, list);
  }
  for (const list of out.values()) list.sort();
  return new Map([...out].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
}

/** Runs `work` on every fork of `forks`, `concurrency` at a time. */
export async function eachFork(forks: readonly string[], concurrency: number, work: (fork: string) => Promise<void>): Promise<void> {
  const queue = [...forks];
  const workers = Array.from({ length: Math.max(1, Math.min(concurrency, queue.length)) }, async () => {
    for (let fork = queue.shift(); fork !== undefined; fork = queue.shift()) await work(fork);
  });
  await Promise.all(workers);
}
