// Acceptance: reads are linearizable across a takeover. An owner is frozen (SIGSTOP), marked dead, its fork taken over
// (`move --force`) and a newer value acknowledged by the new owner; after the old owner resumes, every read of the fork
// sent to its endpoint (as a client with a cached map sends them) is refused with MOVED or FENCED, never answered with
// the old value, and a whole-store read it answers does not include the fork.
import test from 'ava';
import type { Reply } from '../schemas/envelope.js';
import { STORE_COMMANDS } from '../schemas/store.js';
import { CountResult } from '../store/actor/reducers.js';
import { StoreClient } from '../store/client/client.js';
import { makeKey, rangePrefix } from '../store/protocol/keys.js';
import { members, move, startActor, stateOf, until } from './helpers/cluster_procs.js';

const DEAD_AFTER = 1500;

test('a resumed old owner answers no read of a fork taken over while it was frozen', async (t) => {
  const a = await startActor(t, 'a', { deadAfterMs: DEAD_AFTER });
  const b = await startActor(t, 'b', { join: [a.ep], deadAfterMs: DEAD_AFTER });
  const c = await startActor(t, 'c', { join: [a.ep], deadAfterMs: DEAD_AFTER });
  const client = await StoreClient.connect(a.ep, { retries: 20 });
  t.teardown(() => client.close());
  await until('c alive at a and b', async () => stateOf(await members(client, a.ep), 'c') === 'alive' && stateOf(await members(client, b.ep), 'c') === 'alive', 5000);
  const ns = 'sr';
  const prefix = Buffer.from('stale-read');
  const key = makeKey(ns, prefix, Buffer.from('k'));
  const fork = client.map.lookup(key).fork;
  t.is((await move(client, a.ep, fork, 'c')).code, 'OK');
  await client.refreshMap();
  await client.set(key, Buffer.from('old'));

  c.proc.kill('SIGSTOP');
  await until('a and b mark c dead', async () => stateOf(await members(client, a.ep), 'c') === 'dead' && stateOf(await members(client, b.ep), 'c') === 'dead', DEAD_AFTER * 4);
  const taken = await move(client, b.ep, fork, 'a', true);
  t.is(taken.code, 'OK', taken.message);
  await client.refreshMap();
  await client.set(key, Buffer.from('new'));
  t.is((await client.get(key))?.toString(), 'new');

  c.proc.kill('SIGCONT');
  // Straight after the resume, before gossip can have told c anything: every kind of read at c's endpoint.
  const range = rangePrefix(ns, prefix);
  const reads: [string, Buffer][] = [
    ['get', STORE_COMMANDS.get.encodeRequest({ keys: [key] })],
    ['get', STORE_COMMANDS.get.encodeRequest({ keys: [key] })],
    ['scan', STORE_COMMANDS.scan.encodeRequest({ prefix: range, after: null, limit: 10, keysOnly: false })],
    ['reduce', STORE_COMMANDS.reduce.encodeRequest({ name: 'count', prefix: range, args: Buffer.alloc(0) })],
    ['reduce', STORE_COMMANDS.reduce.encodeRequest({ name: 'count', prefix: Buffer.alloc(0), args: Buffer.alloc(0) })],
    ['summary', STORE_COMMANDS.summary.encodeRequest({ prefix: Buffer.alloc(0), depth: 0 })],
  ];
  const replies: Reply[] = await Promise.all(reads.map(([cmd, body]) => client.raw(c.ep, cmd, body, 5000)));
  // A whole-store read (empty prefix) names no fork, so c may answer it once it holds a lease again: the acks
  // that renew its lease carry the new map (gossip merges a message's map before it counts its ack), and c then
  // reads only the forks it still owns, which hold no row. A stale answer would count the moved fork's row.
  const wholeStore = (i: number) => i >= 4;
  const staleRows = (i: number, rep: Reply): number => {
    if (i === 4) return CountResult.fromBuffer(STORE_COMMANDS.reduce.decodeReply(rep.body).result).entries;
    return Number(STORE_COMMANDS.summary.decodeReply(rep.body).entries);
  };
  const served = replies.flatMap((rep, i) => {
    if (rep.code === 'MOVED' || (rep.code === 'FENCED' && rep.retryable)) return [];
    if (rep.code === 'OK' && wholeStore(i) && staleRows(i, rep) === 0) return [];
    return [`${reads[i]![0]}: ${rep.code}${rep.code === 'OK' && wholeStore(i) ? ` counting ${staleRows(i, rep)} row(s) of the moved fork` : ''}`];
  });
  t.deepEqual(served, [], 'the resumed old owner served reads of a fork it no longer owns');
  // Once c has heard from a quorum it knows the fork moved: the redirect names the new owner.
  await until('c redirects reads of the fork to a', async () => {
    const rep = await client.raw(c.ep, 'get', STORE_COMMANDS.get.encodeRequest({ keys: [key] }), 5000);
    return rep.code === 'MOVED' && rep.redirect?.owner === 'a';
  }, 10000);
  t.is((await client.get(key))?.toString(), 'new');
});
