// Range commands: scan (paged by cursor), reduce and summary (reads), purge and reset (writes). A
// non-empty prefix must lie within one fork (CROSS_FORK otherwise); an empty one means every fork
// this actor owns, where a command allows it.
import { STORE_COMMANDS } from '../../../schemas/store.js';
import { StoreError } from '../../protocol/errors.js';
import { ROUTING_BYTES } from '../../protocol/keys.js';
import { storedToWire } from '../../protocol/values.js';
import type { ActorServices, CommandHandler } from '../command.js';
import { getReducer, reducerNames, type Row } from '../reducers.js';

/** Rows per scan reply at most (and when the request asks for 0). */
const MAX_SCAN = 10000;

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
  const s = STORE_COMMANDS.scan.decodeRequest(body);
  actor.ownership.prefixFork(s.prefix, 'scan', false);
  const limit = Math.max(1, Math.min(MAX_SCAN, s.limit || MAX_SCAN));
  const rows = actor.db.scan(s.prefix, s.after, limit);
  return STORE_COMMANDS.scan.encodeReply({
    keys: rows.map((r) => r.key),
    values: s.keysOnly ? [] : rows.map((r) => storedToWire(r.value)),
    next: rows.length === limit ? rows[rows.length - 1]!.key : null,
  });
};

export const reduce: CommandHandler = (body, { actor }) => {
  const r = STORE_COMMANDS.reduce.decodeRequest(body);
  const reducer = getReducer(r.name);
  if (!reducer) throw new StoreError('UNKNOWN_COMMAND', `no reducer ${JSON.stringify(r.name)}; registered: ${reducerNames().join(', ')}`);
  if (r.prefix.length) actor.ownership.prefixFork(r.prefix, 'reduce', false);
  try {
    return STORE_COMMANDS.reduce.encodeReply({ result: reducer.run(rowsOfOwned(actor, r.prefix), r.args) });
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new StoreError('BAD_REQUEST', `reducer ${r.name} failed: ${(err as Error).message}`);
  }
};

export const summary: CommandHandler = (body, { actor }) => {
  const s = STORE_COMMANDS.summary.decodeRequest(body);
  if (s.depth < 0 || s.depth > 64) throw new StoreError('BAD_REQUEST', `summary depth ${s.depth} must be 0..64`);
  const width = s.prefix.length + s.depth;
  const ranges = s.prefix.length ? (actor.ownership.prefixFork(s.prefix, 'summary', false), [s.prefix]) : actor.ownership.ownedForks().map((f) => Buffer.from(f.fork, 'hex'));
  const merged = new Map<string, { branch: Buffer; entries: number; bytes: number }>();
  let entries = 0;
  let bytes = 0;
  for (const range of ranges) {
    for (const b of actor.db.branches(range, Math.max(width, 1))) {
      entries += b.entries;
      bytes += b.bytes;
      if (!s.depth) continue;
      const key = b.branch.subarray(0, width).toString('hex');
      const m = merged.get(key);
      if (m) {
        m.entries += b.entries;
        m.bytes += b.bytes;
      } else merged.set(key, { branch: b.branch.subarray(0, width), entries: b.entries, bytes: b.bytes });
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

export const reset: CommandHandler = (_body, { actor }) => {
  let count = 0;
  for (const entry of actor.ownership.ownedForks()) {
    actor.ownership.checkOwner(entry, true);
    count += purgeRange(actor, entry.fork, Buffer.from(entry.fork, 'hex'));
  }
  return STORE_COMMANDS.reset.encodeReply({ count });
};
