// CURVE: an actor started with server keys serves clients that know its public key, and ignores
// clients that do not (they time out); this is what makes a non-loopback bind acceptable. Members
// started with the key pair also gossip with each other over CURVE.
import test, { type ExecutionContext } from 'ava';
import zmq from 'zeromq';
import { CLUSTER_COMMANDS } from '../schemas/cluster.js';
import { StoreClient, TimeoutError } from '../store/client/client.js';
import { textKey } from '../store/protocol/keys.js';
import { spawnActor, type Actor } from './helpers/store_procs.js';
import { until } from './helpers/cluster_procs.js';

/** An actor started with the CURVE key pair in its environment, as `dbslm store start` members are. */
async function curveActor(t: ExecutionContext, id: string, keys: { publicKey: string; secretKey: string }, extra: string[] = []): Promise<Actor> {
  process.env.DBSLM_STORE_CURVE_PUBLIC = keys.publicKey;
  process.env.DBSLM_STORE_CURVE_SECRET = keys.secretKey;
  try {
    return await spawnActor(t, id, { extra }); // inherits the keys through the environment
  } finally {
    delete process.env.DBSLM_STORE_CURVE_PUBLIC;
    delete process.env.DBSLM_STORE_CURVE_SECRET;
  }
}

test('an actor with CURVE keys serves only clients holding its public key', async (t) => {
  const keys = zmq.curveKeyPair();
  const a = await curveActor(t, 'secure', keys);
  const c = await StoreClient.connect(a.ep, { curveServerKey: keys.publicKey, timeoutMs: 5000 });
  t.teardown(() => c.close());
  await c.set(textKey('sec:k|1'), Buffer.from('secret'));
  t.deepEqual(await c.get(textKey('sec:k|1')), Buffer.from('secret'));
  const keyless = await t.throwsAsync(StoreClient.connect(a.ep, { timeoutMs: 700 }));
  t.true(keyless!.cause instanceof TimeoutError, `${keyless!.message}`);
  t.is((keyless!.cause as TimeoutError).ms, 700);
  const wrong = await t.throwsAsync(StoreClient.connect(a.ep, { curveServerKey: zmq.curveKeyPair().publicKey, timeoutMs: 700 }));
  t.true(wrong!.cause instanceof TimeoutError, `${wrong!.message}`);
});

test('members started with the CURVE key pair gossip with each other', async (t) => {
  const keys = zmq.curveKeyPair();
  const a = await curveActor(t, 'a', keys, ['--dead-after', '1500']);
  const b = await curveActor(t, 'b', keys, ['--dead-after', '1500', '--join', a.ep]);
  const c = await StoreClient.connect(a.ep, { curveServerKey: keys.publicKey, timeoutMs: 3000 });
  t.teardown(() => c.close());
  const view = async (ep: string) => CLUSTER_COMMANDS.members.decodeReply((await c.raw(ep, 'members', CLUSTER_COMMANDS.members.encodeRequest({}))).body);
  const stateAt = async (ep: string, id: string) => (await view(ep)).members.find((m) => m.id === id)?.state;
  await until('a and b see each other alive', async () => (await stateAt(a.ep, 'b')) === 'alive' && (await stateAt(b.ep, 'a')) === 'alive', 5000);
  // b joined with --join, so it holds a write lease only once a has acked one of its pings.
  await until('b holds the write lease', async () => (await view(b.ep)).lease, 5000);
  t.pass('both waits ended in time (each throws when it runs out)');
});
