// The smoothing jobs' shortcuts into the store actor they run in (smooth_jobs.ts): its own forks'
// scan pages, writes and point reads go straight to its database instead of through a request to
// itself (encoding, sockets and decoding, and for writes a dedup record, were a large part of a
// pass's cost). Each checks, as the command it stands for would, that the actor serves the fork
// now (ownership, lease, fencing); when it does not, the caller goes over the wire, which follows
// redirects and retries.
import type { StoreActor } from '../../actor/actor.js';
import { applySets } from '../../actor/commands/batch.js';
import { namespaceRows, namespaceRowsPacked } from '../../actor/commands/scan.js';
import { unpackRows } from '../../protocol/packed_rows.js';
import type { ForkEntry } from '../../../schemas/fork_map.js';
import { inRoutingOrder, type LocalBatchWriter } from '../fork_batches.js';
import type { Value } from '../../client/client.js';
import { NOT_LOCAL, type LocalGetter, type LocalPageReader } from './stat_scan.js';

/**
 * Rows per local page: a page is read and then handled in one turn of the actor's event loop, so
 * smaller pages than a request's keep the requests waiting meanwhile (its peers' gossip among
 * them) from waiting long; a local page costs no request.
 */
const LOCAL_PAGE_ROWS = 2000;

/**
 * Pages of the forks this actor serves now, read from its database as its scan command reads them,
 * without a request to itself (encoding, sockets and decoding were a large part of a pass's cost),
 * and walking the rows once (no cap on the rows examined: scanMarked).
 * The open group is committed first, so only committed rows are read, as a scan's reply would
 * only leave after the commit. A fork it does not serve now is left to the wire (undefined).
 */
export function localPages(actor: StoreActor): LocalPageReader {
  return (namespace, range, after, opts) => {
    try {
      actor.ownership.checkRead();
      actor.ownership.prefixFork(range, 'scan', false);
    } catch {
      return undefined;
    }
    actor.group.commit();
    const limit = Math.max(1, Math.min(LOCAL_PAGE_ROWS, opts.pageSize));
    if (!opts.keysOnly) {
      // Packed by SQLite: a key and a value Buffer made per row cost six times as much.
      const { rows, next } = namespaceRowsPacked(actor, range, after, limit, namespace, !!opts.family, Infinity, opts.keyBytes ?? 0);
      return { ...unpackRows(rows), next };
    }
    const { rows, next } = namespaceRows(actor, range, after, limit, namespace, !!opts.family, Infinity);
    return { keys: rows.map((r) => r.key), values: rows.map(() => undefined), next };
  };
}

/**
 * One fork's sets written into this actor's database when it serves that fork now, as its batch
 * command applies them (ownership, fencing, lease, watched forks) but without a request to itself
 * and without a dedup record (sets are idempotent: a rerun writes the same). They join the open
 * group transaction; the promise settles when it commits (and rejects when it fails). About a third
 * of the smoothing's writes land in the actor that computes them.
 */
export function localWrites(actor: StoreActor): LocalBatchWriter {
  return (ops) => {
    const first = ops[0];
    if (!first || ops.some((op) => op.op !== 'set')) return undefined;
    let fork: ForkEntry;
    try {
      fork = actor.ownership.route(first.key, true);
    } catch {
      return undefined;
    }
    const sets = ops as { key: Buffer; value: Buffer }[];
    actor.group.begin();
    actor.incrQueue.flush();
    try {
      actor.group.atomic(() => applySets(actor, fork, sets.map((op) => op.key), sets.map((op) => op.value)));
    } catch {
      return undefined; // nothing was applied (a key in another fork after a split, say): the wire sorts it out
    }
    actor.group.addRows(ops.length);
    return actor.group.afterCommit();
  };
}

/**
 * Point reads of the keys in forks this actor serves now, from its database (the open group is
 * committed first, as for a page: only committed rows are read); NOT_LOCAL for the others, null
 * while the actor serves no reads (no lease).
 */
export function localGets(actor: StoreActor): LocalGetter {
  return (keys) => {
    try {
      actor.ownership.checkRead();
    } catch {
      return null;
    }
    actor.group.commit();
    const id = actor.id;
    // Read in routing order: lookups that walk the B-tree's pages in order, not back and forth.
    const order = inRoutingOrder(keys);
    const values = new Array<Value | typeof NOT_LOCAL>(keys.length);
    for (const i of order) {
      const key = keys[i]!;
      const entry = actor.map.lookup(key);
      values[i] = entry.owner !== id || actor.ownership.isFenced(entry.fork) ? NOT_LOCAL : actor.db.get(key);
    }
    return values;
  };
}
