// Range commands: scan (paged by cursor), reduce and summary (reads), purge and reset (writes). A
// non-empty prefix must lie within one fork (CROSS_FORK otherwise); an empty one means every fork
// this actor owns, where a command allows it.
import { STORE_COMMANDS } from '../../../schemas/store.js';
import { StoreError } from '../../protocol/errors.js';
import { ROUTING_BYTES } from '../../protocol/keys.js';
import { storedToWire } from '../../protocol/values.js';
import type { ActorServices, CommandHandler } from '../command.js';
import { decodeArgs, getReducer, reducerNames, type Row } from '../reducers.js';

/** Rows per scan reply at most (and when the request asks for 0). */
const MAX_SCAN = 10000;
/** Rows per packed scan reply at most: a packed row costs no object on either end, so pages may be larger. */
const MAX_PACKED_SCAN = 50_000;
/**
 * Rows a namespace-filtered scan reads per request at most: when few rows match, the reply
 * carries fewer rows (maybe none) and a cursor, so one request never holds the actor for a whole
 * fork of other namespaces.
 */
const MAX_SCAN_EXAMINED = 100_000;
/**
 * Up to `limit` rows of the namespace `ns` (with `family`: every namespace starting with ns) after
 * `after`; `next` is where to go on. SQLite filters (ForkDb.scanMarked): the marker is ns and a NUL
 * (namespaces hold no NUL, so the routing prefix starts with exactly that namespace), or ns alone
 * for a family. `examine`: rows examined at most (Infinity: no cap, for the actor's own passes).
 */
export function namespaceRows(actor: ActorServices, prefix: Buffer, after: Buffer | null, limit: number, ns: Buffer, family: boolean, examine = MAX_SCAN_EXAMINED): { rows: Row[]; next: Buffer | null } {
  return actor.db.scanMarked(prefix, after, limit, namespaceMarker(ns, family), examine);
}

/** namespaceRows' page with its rows packed in one blob (store/protocol/packed_rows.ts); `keyBytes` (uncapped only): keys of that length alone. */
export function namespaceRowsPacked(actor: ActorServices, prefix: Buffer, after: Buffer | null, limit: number, ns: Buffer, family: boolean, examine = MAX_SCAN_EXAMINED, keyBytes = 0): { rows: Buffer; next: Buffer | null } {
  return actor.db.scanMarkedPacked(prefix, after, limit, namespaceMarker(ns, family), examine, keyBytes);
}

function namespaceMarker(ns: Buffer, family: boolean): Buffer {
  return family ? ns : Buffer.concat([ns, Buffer.from([0])]);
}

function* rowsOfOwned(actor: ActorServices, prefix: Buffer): Generator<Row> {
  if (prefix.length) yield* actor.db.iterate(prefix);
  else for (const f of actor.ownership.ownedForks()) yield* actor.db.iterate(Buffer.from(f.fork, 'hex'));
}

/** Delete every row under `prefix` of `fork`, noting the deletions if the fork is watched; the fork's dedup records go too when the prefix is the whole fork. */
function purgeRange(actor: ActorServices, fork: string, prefix: Buffer): number {
  if (actor.changeLog.isWatched(fork)) for (const r of actor.db.iterate(prefix)) actor.changeLog.note(fork, r.key, undefined);
  return actor.db.purge(prefix, prefix.length <= ROUTING_BYTES && prefix.toString('hex') === fork);
}

export const scan: CommandHandler = (body, { actor }) => {
  const request = STORE_COMMANDS.scan.decodeRequest(body);
  actor.ownership.prefixFork(request.prefix, 'scan', false);
  const limit = Math.max(1, Math.min(MAX_SCAN, request.limit || MAX_SCAN));
  let rows: Row[];
  let next: Buffer | null;
  if (request.namespace?.length && request.packed && !request.keysOnly) {
    const page = namespaceRowsPacked(actor, request.prefix, request.after, Math.min(MAX_PACKED_SCAN, request.limit || MAX_PACKED_SCAN), request.namespace, !!request.namespacePrefix);
    return STORE_COMMANDS.scan.encodeReply({ keys: [], values: [], next: page.next, rows: page.rows });
  }
  if (request.namespace?.length) ({ rows, next } = namespaceRows(actor, request.prefix, request.after, limit, request.namespace, !!request.namespacePrefix));
  else {
    rows = actor.db.scan(request.prefix, request.after, limit);
    next = rows.length === limit ? rows[rows.length - 1]!.key : null;
  }
  return STORE_COMMANDS.scan.encodeReply({
    keys: rows.map((r) => r.key),
    values: request.keysOnly ? [] : rows.map((r) => storedToWire(r.value)),
    next,
  });
};

/**
 * Several short ranges in one request (a decoder's contexts of one token): each prefix checked as
 * a scan's, so one not owned here answers MOVED for the whole request and the client regroups.
 * Rows per range are capped as a scan page is, and the whole reply by about one page: past that
 * each range reads one row, so a cut range always has a last row for `next` to go on from.
 */
export const scanMany: CommandHandler = (body, { actor }) => {
  const { prefixes, limit } = STORE_COMMANDS['scan-many'].decodeRequest(body);
  const perRange = Math.max(1, Math.min(MAX_SCAN, limit || MAX_SCAN));
  let budget = MAX_SCAN;
  for (const prefix of prefixes) actor.ownership.prefixFork(prefix, 'scan-many', false);
  const ranges = prefixes.map((prefix) => {
    const cap = Math.max(1, Math.min(perRange, budget));
    const rows = actor.db.scan(prefix, null, cap);
    budget -= rows.length;
    return { keys: rows.map((r) => r.key), values: rows.map((r) => storedToWire(r.value)), next: rows.length === cap ? rows[cap - 1]!.key : null };
  });
  return STORE_COMMANDS['scan-many'].encodeReply({ ranges });
};

/** scan-packed: rows per reply in all at most (rows are a few bytes each, so more than a scan page's). */
const MAX_PACKED = 50_000;
/** scan-packed: bytes of a key or a value a row keeps at most. */
const MAX_PACKED_WIDTH = 32;

/**
 * scan-many's ranges with each row packed as a key tail and a value head (schemas/data.ts
 * ScanPackedRequest): one blob per range, which SQLite builds, instead of two Buffers per row on
 * both ends. Rows that cannot be cut so (short keys or values, counters) refuse the request.
 */
export const scanPacked: CommandHandler = (body, { actor }) => {
  const { prefixes, afters, limit, keyTail, valueHead } = STORE_COMMANDS['scan-packed'].decodeRequest(body);
  if (afters.length !== prefixes.length) throw new StoreError('BAD_REQUEST', `scan-packed has ${prefixes.length} prefixes and ${afters.length} afters`);
  if (keyTail < 1 || keyTail > MAX_PACKED_WIDTH || valueHead < 0 || valueHead > MAX_PACKED_WIDTH) throw new StoreError('BAD_REQUEST', `scan-packed keeps 1..${MAX_PACKED_WIDTH} key bytes and 0..${MAX_PACKED_WIDTH} value bytes, not ${keyTail} and ${valueHead}`);
  for (const prefix of prefixes) actor.ownership.prefixFork(prefix, 'scan-packed', false);
  const perRange = Math.max(1, Math.min(MAX_PACKED, limit || MAX_PACKED));
  let budget = MAX_PACKED;
  const ranges = prefixes.map((prefix, i) => {
    const cap = Math.max(1, Math.min(perRange, budget));
    const { rows, next, bad } = actor.db.scanPacked(prefix, afters[i]!.length ? afters[i]! : null, cap, keyTail, valueHead);
    if (bad) throw new StoreError('BAD_REQUEST', `scan-packed: ${bad} rows under prefix ${prefix.toString('hex')} have keys shorter than ${keyTail} bytes, counters, or values shorter than ${valueHead} bytes`);
    budget -= rows.length / (keyTail + valueHead);
    return { rows, next };
  });
  return STORE_COMMANDS['scan-packed'].encodeReply({ ranges });
};

export const reduce: CommandHandler = (body, { actor }) => {
  const request = STORE_COMMANDS.reduce.decodeRequest(body);
  const reducer = getReducer(request.name);
  if (!reducer) throw new StoreError('UNKNOWN_COMMAND', `no reducer ${JSON.stringify(request.name)}; registered: ${reducerNames().join(', ')}`);
  if (request.prefix.length) actor.ownership.prefixFork(request.prefix, 'reduce', false);
  if (reducer.args && request.args.length) decodeArgs(reducer.args, request.args, request.name); // bounded, before the reducer sees them
  try {
    return STORE_COMMANDS.reduce.encodeReply({ result: reducer.run(rowsOfOwned(actor, request.prefix), request.args) });
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new StoreError('BAD_REQUEST', `reducer ${request.name} failed: ${(err as Error).message}`);
  }
};

export const summary: CommandHandler = (body, { actor }) => {
  const { prefix, depth } = STORE_COMMANDS.summary.decodeRequest(body);
  if (depth < 0 || depth > 64) throw new StoreError('BAD_REQUEST', `summary depth ${depth} must be 0..64`);
  const width = prefix.length + depth;
  const ranges = prefix.length ? (actor.ownership.prefixFork(prefix, 'summary', false), [prefix]) : actor.ownership.ownedForks().map((f) => Buffer.from(f.fork, 'hex'));
  const merged = new Map<string, { branch: Buffer; entries: number; bytes: number }>();
  let entries = 0;
  let bytes = 0;
  for (const range of ranges) {
    for (const found of actor.db.branches(range, Math.max(width, 1))) {
      entries += found.entries;
      bytes += found.bytes;
      if (!depth) continue;
      const key = found.branch.subarray(0, width).toString('hex');
      const seen = merged.get(key);
      if (seen) {
        seen.entries += found.entries;
        seen.bytes += found.bytes;
      } else merged.set(key, { branch: found.branch.subarray(0, width), entries: found.entries, bytes: found.bytes });
    }
  }
  return STORE_COMMANDS.summary.encodeReply({ entries, bytes, branches: [...merged.values()] });
};

export const purge: CommandHandler = (body, { actor }) => {
  const { prefix } = STORE_COMMANDS.purge.decodeRequest(body);
  if (!prefix.length) throw new StoreError('BAD_REQUEST', 'purge needs a non-empty prefix; use reset to clear every fork this actor owns');
  const { fork } = actor.ownership.prefixFork(prefix, 'purge', true);
  return STORE_COMMANDS.purge.encodeReply({ count: purgeRange(actor, fork, prefix) });
};

export const reset: CommandHandler = (body, { actor }) => {
  STORE_COMMANDS.reset.decodeRequest(body); // a garbage reset is a BAD_REQUEST, never a wipe
  let count = 0;
  for (const entry of actor.ownership.ownedForks()) {
    actor.ownership.checkOwner(entry, true);
    count += purgeRange(actor, entry.fork, Buffer.from(entry.fork, 'hex'));
  }
  return STORE_COMMANDS.reset.encodeReply({ count });
};
