// Acceptance: a move to a member that joined a moment ago. The source waits for the target's lease before the
// cut-over, so the fork takes writes at its new owner as soon as the move returns, rather than FENCED until the
// target's first quorum round.
import test from 'ava';
import { STORE_COMMANDS } from '../schemas/store.js';
import { StoreClient } from '../store/client/client.js';
import { makeKey } from '../store/protocol/keys.js';
import { members, move, startActor, stateOf, until } from './helpers/cluster_procs.js';

// A long dead bound makes the probe period (and so the time a new member waits for its lease) long: 500 ms.
const DEAD_AFTER = 8000;

test('a fork moved to a member that just joined takes writes there as soon as the move returns', async (t) => {
  const a = await startActor(t, 'a', { deadAfterMs: DEAD_AFTER });
  const client = await StoreClient.connect(a.ep, { retries: 20 });
  t.teardown(() => client.close());
  const key = makeKey('nm', Buffer.from('new-member'));
  await client.set(key, Buffer.from('before'));
  const fork = client.map.lookup(key).fork;

  const b = await startActor(t, 'b', { join: [a.ep], deadAfterMs: DEAD_AFTER });
  await until('a sees b alive', async () => stateOf(await members(client, a.ep), 'b') === 'alive', 5000, 10);
  const moved = await move(client, a.ep, fork, 'b');
  t.is(moved.code, 'OK', moved.message);
  const write = await client.raw(b.ep, 'set', STORE_COMMANDS.set.encodeRequest({ entries: [{ key, value: Buffer.from('after') }] }));
  t.is(write.code, 'OK', write.message);
  t.true((await members(client, b.ep)).lease);
});
