// Reading every key of one namespace, wherever it lives. A namespace's keys are spread over every
// fork by their routing bytes, so each fork is scanned whole with the actor's namespace filter
// (rows of other namespaces, such as a training run's counts, never leave the actor). Actors work
// in parallel, each on a couple of its forks at a time; pages arrive in key order within a fork
// and in no particular order across forks.
import { STORE_COMMANDS } from '../../schemas/store.js';
import type { Reply } from '../../schemas/envelope.js';
import { StoreReplyError, TimeoutError, type StoreClient, type Value } from '../client/client.js';
import { unpackRows } from '../protocol/packed_rows.js';
import { wireToStored } from '../protocol/values.js';

export interface NamespaceScanOptions {
  /** Only the keys (values come back undefined). */
  keysOnly?: boolean;
  /** Rows per scan reply (the actor's limit: 10000, or 50000 for whole rows, which come packed). */
  pageSize?: number;
  /** Forks scanned at once per actor: one scans while the other's reply travels. */
  forksPerActor?: number;
  /** `ns` names a family: every namespace starting with it (one pass over the store for several namespaces). */
  family?: boolean;
}

/** Redirects followed for one fork before giving up (moves and splits settle in a few). */
const MAX_HOPS = 16;
const ATTEMPTS = 6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One page of a namespace scan of a fork range. */
export interface NamespacePage {
  keys: Buffer[];
  values: Value[];
  next: Buffer | null;
}

/**
 * One page of namespace `namespace` (a family with `family`) in fork range `range` after `after`,
 * following redirects and retrying timeouts and retryable codes; null when the range no longer lies
 * in one fork (it split: scan its children).
 */
export async function fetchNamespacePage(client: StoreClient, namespace: Buffer, range: Buffer, after: Buffer | null, opts: { pageSize: number; keysOnly?: boolean; family?: boolean }): Promise<NamespacePage | null> {
  for (let hops = 0, attempt = 0; ; ) {
    const entry = client.map.forkOfPrefix(range);
    if (!entry) return null;
    const ep = await client.endpointFor(entry.owner);
    // Whole rows come packed (store/protocol/packed_rows.ts): ~9x less of the actor's time a row.
    const packed = !opts.keysOnly;
    const body = STORE_COMMANDS.scan.encodeRequest({ prefix: range, after, limit: opts.pageSize, keysOnly: !!opts.keysOnly, namespace, namespacePrefix: !!opts.family, packed });
    let rep: Reply;
    try {
      rep = await client.raw(ep, 'scan', body);
    } catch (err) {
      if (!(err instanceof TimeoutError) || ++attempt >= ATTEMPTS) throw err;
      continue;
    }
    if ((rep.code === 'MOVED' || rep.code === 'CROSS_FORK') && hops++ < MAX_HOPS) {
      await client.refreshMap(ep).catch(() => client.refreshMap());
      continue;
    }
    if (rep.code !== 'OK' && rep.retryable && ++attempt < ATTEMPTS) {
      await sleep(20 * 2 ** attempt);
      continue;
    }
    if (rep.code !== 'OK') throw new StoreReplyError(rep.code, rep.message, ep);
    const page = STORE_COMMANDS.scan.decodeReply(rep.body);
    if (packed) return { ...unpackRows(page.rows ?? Buffer.alloc(0)), next: page.next };
    return { keys: page.keys, values: opts.keysOnly ? page.keys.map(() => undefined) : page.values.map(wireToStored), next: page.next };
  }
}

/**
 * Calls `onPage` with every key of namespace `ns` (or family, see `family`) and its value across
 * the store, a page at a time; resolves with the number of keys once every fork is done.
 */
export async function scanNamespace(client: StoreClient, ns: string, onPage: (keys: Buffer[], values: Value[]) => void, opts: NamespaceScanOptions = {}): Promise<number> {
  const namespace = Buffer.from(ns, 'utf8');
  const limit = opts.pageSize ?? (opts.keysOnly ? 10000 : 50000);
  let total = 0;

  const scanRange = async (range: Buffer, after: Buffer | null): Promise<void> => {
    for (;;) {
      const page = await fetchNamespacePage(client, namespace, range, after, { pageSize: limit, keysOnly: opts.keysOnly, family: opts.family });
      if (!page) {
        // The fork split since the plan was made: its children, in key order, from the cursor on.
        const parts = client.map.forksUnder(range).sort((a, b) => (a.fork < b.fork ? -1 : 1));
        for (const part of parts) await scanRange(Buffer.from(part.fork, 'hex'), after);
        return;
      }
      if (page.keys.length) {
        total += page.keys.length;
        onPage(page.keys, page.values);
      }
      if (!page.next) return;
      after = page.next;
    }
  };

  const byOwner = new Map<string, Buffer[]>();
  for (const e of client.map.entries.values()) {
    const ranges = byOwner.get(e.owner) ?? [];
    ranges.push(Buffer.from(e.fork, 'hex'));
    byOwner.set(e.owner, ranges);
  }
  const workers: Promise<void>[] = [];
  for (const ranges of byOwner.values()) {
    for (let w = 0; w < (opts.forksPerActor ?? 2); w++) {
      workers.push(
        (async () => {
          for (let range = ranges.pop(); range; range = ranges.pop()) await scanRange(range, null);
        })(),
      );
    }
  }
  await Promise.all(workers);
  return total;
}
