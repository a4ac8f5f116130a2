// CURVE: an actor started with server keys serves clients that know its public key, and ignores
// clients that do not (they time out); this is what makes a non-loopback bind acceptable.
import test from 'ava';
import zmq from 'zeromq';
import { StoreClient } from '../store/client/client.js';
import { textKey } from '../store/protocol/keys.js';
import { spawnActor } from './helpers/store_procs.js';

test('an actor with CURVE keys serves only clients holding its public key', async (t) => {
  const keys = zmq.curveKeyPair();
  process.env.DBSLM_STORE_CURVE_PUBLIC = keys.publicKey;
  process.env.DBSLM_STORE_CURVE_SECRET = keys.secretKey;
  let a;
  try {
    a = await spawnActor(t, 'secure'); // inherits the keys through the environment
  } finally {
    delete process.env.DBSLM_STORE_CURVE_PUBLIC;
    delete process.env.DBSLM_STORE_CURVE_SECRET;
  }
  const c = await StoreClient.connect(a.ep, { curveServerKey: keys.publicKey, timeoutMs: 5000 });
  t.teardown(() => c.close());
  await c.set(textKey('sec:k|1'), Buffer.from('secret'));
  t.deepEqual(await c.get(textKey('sec:k|1')), Buffer.from('secret'));
  const err = await t.throwsAsync(StoreClient.connect(a.ep, { timeoutMs: 700 }));
  t.regex(err!.message, /could not fetch the fork map.*no reply within 700 ms/);
  const wrong = await t.throwsAsync(StoreClient.connect(a.ep, { curveServerKey: zmq.curveKeyPair().publicKey, timeoutMs: 700 }));
  t.regex(wrong!.message, /no reply/);
});
