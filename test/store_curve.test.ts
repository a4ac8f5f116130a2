// CURVE: an actor started with server keys serves clients that know its public key, and refuses
// clients that do not, which are told why (SecurityMismatchError) instead of timing out; this is
// what makes a non-loopback bind acceptable. Members started with the key pair also gossip with
// each other over CURVE, and a member holding another key pair, or none where the cluster has one
// (or one where it has none), cannot join and says why (issue 10). Serial: the keys travel in the
// environment, which the tests share.
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zmq from 'zeromq';
import { CLUSTER_COMMANDS } from '../schemas/cluster.js';
import { StoreClient } from '../store/client/client.js';
import { textKey } from '../store/protocol/keys.js';
import { SecurityMismatchError } from '../store/protocol/security_mismatch.js';
import { runToExit, spawnActor, type Actor } from './helpers/store_procs.js';

const test = anyTest.serial as TestFn;
import { until } from './helpers/cluster_procs.js';
import { CLI } from './helpers/paths.js';
import { tempDir } from './helpers/temp_dir.js';

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
  const keyless = await t.throwsAsync(StoreClient.connect(a.ep, { timeoutMs: 5000 }));
  const plain = keyless!.cause as SecurityMismatchError;
  t.true(plain instanceof SecurityMismatchError && plain.mismatch === 'mechanism', `${keyless!.message}`);
  t.regex(plain.message, /speaks CURVE and this process has no key: set DBSLM_STORE_CURVE_PUBLIC/);
  const wrong = await t.throwsAsync(StoreClient.connect(a.ep, { curveServerKey: zmq.curveKeyPair().publicKey, timeoutMs: 5000 }));
  const other = wrong!.cause as SecurityMismatchError;
  t.true(other instanceof SecurityMismatchError && other.mismatch === 'key', `${wrong!.message}`);
  t.regex(other.message, /refused the CURVE handshake: the server key this process uses \(DBSLM_STORE_CURVE_PUBLIC\) is not/);
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

/** Starts a member joining `seed` with `keys` in its environment (none: plain), expecting it to exit. */
async function joinExpectingExit(t: ExecutionContext, id: string, seed: string, keys: { publicKey: string; secretKey: string } | null) {
  const dir = tempDir('dbslm-curve-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  if (keys) {
    process.env.DBSLM_STORE_CURVE_PUBLIC = keys.publicKey;
    process.env.DBSLM_STORE_CURVE_SECRET = keys.secretKey;
  }
  try {
    return runToExit(['--id', id, '--data', dir, '--join', seed], 20000); // spawned at once, with the keys
  } finally {
    delete process.env.DBSLM_STORE_CURVE_PUBLIC;
    delete process.env.DBSLM_STORE_CURVE_SECRET;
  }
}

test('a member holding another key pair, or none, cannot join a CURVE cluster, and says why', async (t) => {
  // The key pair as an operator makes one.
  const made = spawnSync(process.execPath, [CLI, 'store', 'keys', '--json'], { encoding: 'utf8' });
  t.is(made.status, 0, made.stderr);
  const keys = JSON.parse(made.stdout) as { publicKey: string; secretKey: string };
  t.regex(keys.publicKey, /^[\x21-\x7e]{40}$/);
  const a = await curveActor(t, 'a', keys);
  const intruder = await joinExpectingExit(t, 'intruder', a.ep, zmq.curveKeyPair());
  t.is(intruder.code, 2, intruder.out);
  t.regex(intruder.out, /cannot join the cluster: tcp:\/\/127\.0\.0\.1:\d+ refused the CURVE handshake/);
  const plain = await joinExpectingExit(t, 'plain', a.ep, null);
  t.is(plain.code, 2, plain.out);
  t.regex(plain.out, /cannot join the cluster: .* speaks CURVE and this process has no key/);
  const c = await StoreClient.connect(a.ep, { curveServerKey: keys.publicKey, timeoutMs: 3000 });
  t.teardown(() => c.close());
  const { members } = CLUSTER_COMMANDS.members.decodeReply((await c.raw(a.ep, 'members', CLUSTER_COMMANDS.members.encodeRequest({}))).body);
  t.deepEqual(members.map((m) => m.id).sort(), ['a'], 'neither joined');
  // (Which end finds a mismatch first varies: the actor then reports the refusal, or a handshake cut off.)
  await until('a reported the refused connections', async () => /refused a (plain )?connection|handshake was cut off by the other end/.test(a.output()), 3000);
});

test('a CURVE member cannot join a plain cluster, and says why', async (t) => {
  const p = await spawnActor(t, 'p');
  const secure = await joinExpectingExit(t, 'secure', p.ep, zmq.curveKeyPair());
  t.is(secure.code, 2, secure.out);
  // ZeroMQ names the mismatch when this end reads the plain greeting first; when the plain end hangs
  // up first this end sees a broken pipe, as with another key pair, and the message names both.
  t.regex(secure.out, /cannot join the cluster: .*(does not speak CURVE and this process does|or tcp:\S+ does not speak CURVE at all).*a cluster cannot mix CURVE and plain members/);
});
