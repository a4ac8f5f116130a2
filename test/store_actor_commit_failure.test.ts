// A group that does not commit acknowledges nothing: every request in it gets an error, every
// commit waiter (importChunk, dropFork, afterCommit) rejects, and none of its rows are stored.
// The failure is SQLite's own: the database is capped at its current size (max_page_count), so
// the next statement that needs a page fails with SQLITE_FULL, and SQLite then rolls the whole
// transaction back, as it does on a full disk.
import test from 'ava';
import { OP_INCR } from '../schemas/data.js';
import { ForkChunkType, type ForkChunk } from '../schemas/fork_chunk.js';
import { STORE_COMMANDS } from '../schemas/store.js';
import type { StoreActor } from '../store/actor/actor.js';
import { StoreError } from '../store/protocol/errors.js';
import { makeKey, ROUTING_BYTES } from '../store/protocol/keys.js';
import { RawPeer, startActor } from './helpers/actor_in_process.js';

const C = STORE_COMMANDS;
const EMPTY = Buffer.alloc(0);
const key = (ctx: string, rest: string) => makeKey('f', Buffer.from(ctx), Buffer.from(rest));
const set = (k: Buffer, value: Buffer) => ({ cmd: 'set', body: C.set.encodeRequest({ entries: [{ key: k, value }] }) });
const incrBatch = (seq: number, k: Buffer) => ({ cmd: 'batch', body: C.batch.encodeRequest({ producer: 'p', seq, floor: 0, ops: [{ op: OP_INCR, key: k, value: EMPTY, delta: 1 }], incrs: EMPTY }) });

function chunkOf(keys: Buffer[], valueBytes: number, fork: string): ForkChunk {
  return { fork, entries: keys.map((k) => ({ key: k, kind: 1, data: Buffer.alloc(valueBytes, 7) })), dedup: [{ producer: 'mover', seq: 1, anchor: keys[0]!.subarray(0, ROUTING_BYTES) }], last: EMPTY, done: false };
}

/** The actor with `import` and `drop` commands over its hooks (as the cluster's move-chunk and move-abort use them); the last promise each returned is kept. */
async function actorWithHooks(t: Parameters<typeof startActor>[0]) {
  const actor = await startActor(t);
  const calls: { imported?: Promise<void>; dropped?: Promise<number> } = {};
  actor.registerCommand('import', (body) => (calls.imported = actor.importChunk(ForkChunkType.fromBuffer(body) as ForkChunk)).then(() => EMPTY));
  actor.registerCommand('drop', (body) => (calls.dropped = actor.dropFork(body.toString())).then(() => EMPTY));
  return { actor, calls, peer: new RawPeer(t, actor.endpoint) };
}

function capAtCurrentSize(actor: StoreActor): void {
  actor.db.db.pragma(`max_page_count = ${actor.db.db.pragma('page_count', { simple: true }) as number}`);
}
function uncap(actor: StoreActor): void {
  actor.db.db.pragma('max_page_count = 1073741823');
}

test('a write that fills the disk fails its whole group: earlier writes and the import waiter in it get errors, nothing is stored', async (t) => {
  const { actor, calls, peer } = await actorWithHooks(t);
  const small = key('small', 'k');
  const counted = key('small', 'n');
  const imported = [1, 2, 3].map((i) => key('imported', `k${i}`));
  const fork = actor.map.lookup(imported[0]!).fork;
  capAtCurrentSize(actor);
  const group = peer.bundle([
    incrBatch(1, counted),
    set(small, Buffer.from('v')),
    { cmd: 'import', body: ForkChunkType.toBuffer(chunkOf(imported, 8, fork)) },
    set(key('big', 'k'), Buffer.alloc(256 * 1024, 1)),
  ]);
  // A request after the failed group must not release its replies as if they had committed.
  const later = await peer.request({ cmd: 'get', body: C.get.encodeRequest({ keys: [small] }) });
  const replies = await group;
  t.deepEqual(replies.map((r) => r.code), ['INTERNAL', 'INTERNAL', 'INTERNAL', 'INTERNAL']);
  t.true(replies.slice(0, 3).every((r) => r.retryable), 'nothing of them was stored: retry');
  const rejected = await t.throwsAsync(calls.imported!, { instanceOf: StoreError });
  t.is(rejected?.code, 'INTERNAL');
  t.is(later.code, 'OK');
  t.deepEqual(C.get.decodeReply(later.body).values.map((v) => v.kind), [0]);
  for (const k of [small, counted, ...imported]) t.is(actor.db.get(k), undefined);
  t.false(actor.db.dedupSeen('mover', 1));
  t.false(actor.db.dedupSeen('p', 1));

  // With room again the actor serves on, and the failed requests, resent, apply.
  uncap(actor);
  const retried = await peer.bundle([incrBatch(1, counted), set(small, Buffer.from('v')), { cmd: 'import', body: ForkChunkType.toBuffer(chunkOf(imported, 8, fork)) }]);
  t.deepEqual(retried.map((r) => r.code), ['OK', 'OK', 'OK']);
  t.false(C.batch.decodeReply(retried[0]!.body).duplicate, 'the failed batch was not recorded');
  t.is(actor.db.get(counted), 1n);
  t.deepEqual(actor.db.get(small), Buffer.from('v'));
  t.is(actor.db.size(Buffer.from(fork, 'hex')).keys, 3);
});

test('an import that fills the disk rejects, and so do a drop and a set before it in the same group', async (t) => {
  const { actor, calls, peer } = await actorWithHooks(t);
  const small = key('small', 'k');
  const dropped = key('dropped', 'k');
  const dropFork = actor.map.lookup(dropped).fork;
  t.is((await peer.request(set(dropped, Buffer.from('kept')))).code, 'OK');
  const imported = Array.from({ length: 300 }, (_, i) => key('imported', `k${i}`));
  capAtCurrentSize(actor);
  const replies = await peer.bundle([
    { cmd: 'drop', body: Buffer.from(dropFork) },
    set(small, Buffer.from('v')),
    { cmd: 'import', body: ForkChunkType.toBuffer(chunkOf(imported, 200, actor.map.lookup(imported[0]!).fork)) },
  ]);
  t.deepEqual(replies.map((r) => r.code), ['INTERNAL', 'INTERNAL', 'INTERNAL']);
  t.is((await t.throwsAsync(calls.dropped!, { instanceOf: StoreError }))?.code, 'INTERNAL');
  // The import's own statement failed: it rejects with SQLite's error (not an Error to ava's eye).
  const full = await t.throwsAsync(calls.imported!, { any: true });
  t.is((full as { code?: string } | undefined)?.code, 'SQLITE_FULL');
  t.deepEqual(actor.db.get(dropped), Buffer.from('kept'), 'the drop was rolled back with its group');
  t.is(actor.db.get(small), undefined);
  t.is(actor.db.get(imported[0]!), undefined);
  uncap(actor);
  t.is((await peer.request(set(small, Buffer.from('v')))).code, 'OK');
});
