// Acceptance: no dead ends when an owner is dead, with real actor processes. A live move of a dead owner's fork is
// refused at once with the command that helps; a get of a key on a dead owner fails fast naming the owner, and the
// same client finds the key again once the fork is taken over; a move whose source dies fails once gossip marks it
// dead, rather than when the request times out.
import test, { type ExecutionContext } from 'ava';
import { MOVE_COMMANDS } from '../schemas/moves.js';
import { StoreClient, StoreReplyError } from '../store/client/client.js';
import { makeKey } from '../store/protocol/keys.js';
import { dbslmStore, members, move, startActor, stateOf, until, type ActorProc } from './helpers/cluster_procs.js';

const DEAD_AFTER = 1500;

/** Three members with the fork of `key` at c, c holding one value there. */
async function clusterWithForkAtC(t: ExecutionContext, key: Buffer) {
  const a = await startActor(t, 'a', { deadAfterMs: DEAD_AFTER });
  const b = await startActor(t, 'b', { join: [a.ep], deadAfterMs: DEAD_AFTER });
  const c = await startActor(t, 'c', { join: [a.ep], deadAfterMs: DEAD_AFTER });
  const client = await StoreClient.connect(a.ep, { retries: 20 });
  t.teardown(() => client.close());
  await until('all alive at a and b', async () => {
    for (const x of [a, b]) {
      const v = await members(client, x.ep);
      if (stateOf(v, 'b') !== 'alive' || stateOf(v, 'c') !== 'alive') return false;
    }
    return true;
  }, 10000);
  const fork = client.map.lookup(key).fork;
  t.is((await move(client, a.ep, fork, 'c')).code, 'OK');
  await client.refreshMap();
  await client.set(key, Buffer.from('at c'));
  return { a, b, c, client, fork };
}

async function killAndWaitDead(client: StoreClient, victim: ActorProc, watchers: ActorProc[]): Promise<void> {
  victim.proc.kill('SIGKILL');
  await until(`${victim.id} dead everywhere`, async () => {
    for (const x of watchers) if (stateOf(await members(client, x.ep), victim.id) !== 'dead') return false;
    return true;
  }, DEAD_AFTER * 4);
}

test('a live move of a dead owner\'s fork is refused at once, naming the takeover command', async (t) => {
  const key = makeKey('do', Buffer.from('move-from-dead'));
  const { a, b, c, client, fork } = await clusterWithForkAtC(t, key);
  await killAndWaitDead(client, c, [a, b]);
  const started = performance.now();
  const r = await move(client, a.ep, fork, 'b');
  const ms = performance.now() - started;
  t.is(r.code, 'BAD_REQUEST', r.message);
  t.regex(r.message, /dbslm store takeover c/);
  t.true(ms < 2000, `the refusal took ${ms} ms`);
});

test('a get of a key on a dead owner fails fast naming the owner; after the takeover the same client reads again', async (t) => {
  const key = makeKey('do', Buffer.from('get-from-dead'));
  const { a, b, c, client } = await clusterWithForkAtC(t, key);
  // A client with the map cached before the owner died, and the CLI's timeout.
  const cached = await StoreClient.connect(b.ep, { timeoutMs: 10000, retries: 1 });
  t.teardown(() => cached.close());
  t.is(cached.locate(key).owner, 'c');
  await killAndWaitDead(client, c, [a, b]);

  let started = performance.now();
  const err = await t.throwsAsync(cached.get(key), { instanceOf: StoreReplyError });
  const ms = performance.now() - started;
  t.is(err?.code, 'OWNER_DEAD');
  t.regex(err?.message ?? '', /dbslm store takeover c/);
  t.log(`a get of a key on a dead owner failed after ${Math.round(ms)} ms`);
  // OWNER_DEAD comes only from asking another member, never from the request's timeout (which would be a TimeoutError).
  started = performance.now();
  t.is((await cached.get(key).catch((e: StoreReplyError) => e.code)), 'OWNER_DEAD', 'the next request fails at once too');
  t.log(`the next request failed after ${Math.round(performance.now() - started)} ms`);

  const cli = await dbslmStore(['get', 'do:get-from-dead', '--connect', a.ep]);
  t.is(cli.code, 1);
  t.regex(cli.stderr, /OWNER_DEAD/);
  t.log(`the CLI get failed after ${Math.round(cli.ms)} ms`);

  t.is((await dbslmStore(['takeover', 'c', '--connect', a.ep])).code, 0);
  // The fork starts empty at its new owner; the cached client learns the new map instead of failing.
  await until('the cached client reads the taken-over fork', async () => (await cached.get(key).then(() => true, () => false)), 5000, 200);
  await cached.set(key, Buffer.from('after the takeover'));
  t.is((await cached.get(key))?.toString(), 'after the takeover');
});

test('a move whose source is killed fails once gossip marks the source dead', async (t) => {
  const key = makeKey('do', Buffer.from('source-dies'));
  const { a, b, c, client, fork } = await clusterWithForkAtC(t, key);
  // Killed just before the move reaches it: a still holds c alive and forwards the move to it.
  c.proc.kill('SIGKILL');
  const started = performance.now();
  const rep = await client.raw(a.ep, 'move', MOVE_COMMANDS.move.encodeRequest({ fork, to: 'b', force: false, hops: 0 }), 120000);
  const ms = performance.now() - started;
  t.not(rep.code, 'OK');
  if (rep.code !== 'OK') {
    t.true(rep.code === 'INTERNAL' || rep.code === 'BAD_REQUEST', rep.code);
    t.regex(rep.message, /\bc\b.*dead/);
  }
  t.log(`the move failed ${Math.round(ms)} ms after its source was killed`);
  t.true(ms < DEAD_AFTER * 4, `the move failed after ${ms} ms`);
  // The move may fail before gossip has marked c dead (its connection dropped first); gossip gets there too.
  await until('b marks c dead', async () => stateOf(await members(client, b.ep), 'c') === 'dead', DEAD_AFTER * 4);
});
