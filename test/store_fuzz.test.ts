// Hostile requests against a real actor (started by `dbslm store start`, so the cluster layer
// with its gossip and move commands is attached): valid envelopes with seeded random, damaged
// and count-bombed bodies for every command. Every request gets a reply (an error code or an OK
// whose body decodes), the actor's memory stays bounded, and it serves normally afterwards.
import test from 'ava';
import zmq from 'zeromq';
import { encodeRequest, repliesIn, type Reply } from '../schemas/envelope.js';
import { STORE_COMMANDS } from '../schemas/store.js';
import { launchActor, type ActorProcess } from '../cli/io/actor_process.js';
import { ForkMap } from '../store/map/fork_map.js';
import { textKey } from '../store/protocol/keys.js';
import { Rng } from './helpers/fuzz_bodies.js';
import { ALL_COMMANDS, formatReport, fuzzCalls, runFuzz, type FuzzCall } from './helpers/fuzz_driver.js';
import { tmpDir } from './helpers/store_procs.js';

const linuxOnly = process.platform === 'linux' ? test : test.skip;
const SEED = 20240607;
const REQUESTS = 10_000;
const RSS_GROWTH_LIMIT_KIB = 100 * 1024;

async function startFuzzedActor(t: { teardown: (fn: () => unknown) => void }): Promise<ActorProcess & { pid: number }> {
  const actor = await launchActor({ id: 'fz', dataDir: tmpDir(), throughCli: true });
  t.teardown(() => actor.kill());
  return { ...actor, pid: actor.proc.pid! };
}

/**
 * A normal set then get through a fresh DEALER: the actor still serves. Fuzzed `map-put`s may
 * have given some forks to made-up owners (anyone on the loopback may push map entries), so the
 * key is one of a fork the actor still owns.
 */
async function setAndGet(endpoint: string, actorId: string): Promise<Reply[]> {
  const sock = new zmq.Dealer({ linger: 0, receiveTimeout: 10000 });
  sock.connect(endpoint);
  try {
    await sock.send(encodeRequest({ id: 1, cmd: 'map', epoch: 0, body: Buffer.alloc(0) }));
    const map = ForkMap.fromEntries(STORE_COMMANDS.map.decodeReply([...repliesIn((await sock.receive())[0]!)][0]!.body).map.entries);
    const key = Array.from({ length: 64 }, (_, i) => textKey(`after:fuzz|k${i}`)).find((k) => map.lookup(k).owner === actorId)!;
    await sock.send(encodeRequest({ id: 1, cmd: 'set', epoch: 0, body: STORE_COMMANDS.set.encodeRequest({ entries: [{ key, value: Buffer.from('still here') }] }) }));
    const set = [...repliesIn((await sock.receive())[0]!)];
    await sock.send(encodeRequest({ id: 2, cmd: 'get', epoch: 0, body: STORE_COMMANDS.get.encodeRequest({ keys: [key] }) }));
    const get = [...repliesIn((await sock.receive())[0]!)];
    return [...set, ...get];
  } finally {
    sock.close();
  }
}

linuxOnly('10k fuzzed requests for every command: each gets a reply, memory stays bounded, the actor serves on', async (t) => {
  const actor = await startFuzzedActor(t);
  const calls = fuzzCalls(SEED, REQUESTS, 'fz');
  const report = await runFuzz(actor.endpoint, calls, { pid: actor.pid });
  for (const line of formatReport(report)) t.log(line);

  t.deepEqual(report.unanswered.map((c) => `${c.cmd} ${c.kind} ${c.body.toString('hex').slice(0, 80)}`), [], 'every request gets a reply');
  t.deepEqual(report.problems, []);
  // INTERNAL is for the actor's own failures; the one a peer can cause by design is a move-verify
  // whose digest differs from the target's (the source then keeps the fork).
  t.deepEqual(report.internal.filter((line) => !line.startsWith('move-verify ')), []);
  t.true(report.rssPeakKiB - report.rssBeforeKiB < RSS_GROWTH_LIMIT_KIB, `RSS grew by ${report.rssPeakKiB - report.rssBeforeKiB} KiB`);
  for (const cmd of ALL_COMMANDS.keys()) {
    t.true(Object.keys(report.byCommand[cmd] ?? {}).some((code) => code !== 'UNKNOWN_COMMAND'), `the actor serves ${cmd}`);
  }
  t.is(actor.proc.exitCode, null, 'the actor is still running');
  const [set, get] = await setAndGet(actor.endpoint, 'fz');
  t.is(set!.code, 'OK');
  t.is(get!.code, 'OK');
  t.deepEqual(STORE_COMMANDS.get.decodeReply(get!.body).values.map((v) => v.data.toString()), ['still here']);
});

/** Pings from another client all the while, counting the answers. */
function keepPinging(endpoint: string): { stop: () => Promise<number> } {
  const sock = new zmq.Dealer({ linger: 0, receiveTimeout: 10000 });
  sock.connect(endpoint);
  let running = true;
  let answered = 0;
  const loop = (async () => {
    for (let id = 1; running && id < 1_000_000; id++) {
      await sock.send(encodeRequest({ id, cmd: 'ping', epoch: 0, body: Buffer.alloc(0) }));
      const [reply] = [...repliesIn((await sock.receive())[0]!)];
      if (reply?.id === id && reply.code === 'OK') answered++;
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop.catch(() => undefined);
      sock.close();
      return answered;
    },
  };
}

linuxOnly('known hostile bodies and random bodies of every length 0..64 get BAD_REQUEST or an answer while another client is served', async (t) => {
  const actor = await startFuzzedActor(t);
  const pinger = keepPinging(actor.endpoint);
  const hostile: FuzzCall[] = [
    { cmd: 'set', body: Buffer.from('feffffff0f', 'hex'), kind: 'fixed' },
    { cmd: 'set', body: Buffer.from('feffffffffffff0f', 'hex'), kind: 'fixed' },
  ];
  const rng = new Rng(SEED + 1);
  const random: FuzzCall[] = [];
  for (const cmd of ALL_COMMANDS.keys()) {
    for (let len = 0; len <= 64; len++) {
      if (cmd === 'stop' && len === 0) continue; // a valid stop
      random.push({ cmd, body: rng.bytes(len), kind: 'random-short' });
    }
  }
  const fixed = await runFuzz(actor.endpoint, hostile, { pid: actor.pid, inFlight: 1 });
  t.deepEqual(fixed.unanswered, []);
  t.deepEqual(fixed.codes, { BAD_REQUEST: 2 });
  const report = await runFuzz(actor.endpoint, random, { pid: actor.pid });
  for (const line of [...formatReport(fixed), ...formatReport(report)]) t.log(line);
  t.deepEqual(report.unanswered.map((c) => `${c.cmd} ${c.body.toString('hex')}`), []);
  t.deepEqual(report.problems, []);
  t.deepEqual(report.internal.filter((line) => !line.startsWith('move-verify ')), []);
  const answered = await pinger.stop();
  t.true(answered > 0, 'the other client was answered meanwhile');
  t.is(actor.proc.exitCode, null);
});
