// A client that sends requests and never reads its replies: the actor keeps a bounded number of
// replies for it (ZeroMQ's queue for that peer), drops the rest, counts them in `stats` and says
// so on stderr, and serves everyone else meanwhile.
import test from 'ava';
import zmq from 'zeromq';
import { encodeRequest } from '../schemas/envelope.js';
import { STORE_COMMANDS } from '../schemas/store.js';
import { textKey } from '../store/protocol/keys.js';
import { RawPeer } from './helpers/actor_in_process.js';
import { rssKiB } from './helpers/fuzz_driver.js';
import { spawnActor } from './helpers/store_procs.js';

const linuxOnly = process.platform === 'linux' ? test : test.skip;
const VALUE_BYTES = 16 * 1024;
const REQUESTS = 20_000; // 320 MiB of replies if all were kept
const RSS_GROWTH_LIMIT_KIB = 100 * 1024;

linuxOnly('replies to a peer that does not read are bounded, dropped, counted in stats and reported on stderr', async (t) => {
  const a = await spawnActor(t, 'a');
  const peer = new RawPeer(t, a.ep);
  const key = textKey('bp:ctx|big');
  t.is((await peer.ask('set', STORE_COMMANDS.set.encodeRequest({ entries: [{ key, value: Buffer.alloc(VALUE_BYTES, 1) }] }))).code, 'OK');
  const rssBefore = rssKiB(a.proc.pid!);

  // Never reads; its own receive queue holds one message, so the rest waits on the actor's side.
  const deaf = new zmq.Dealer({ linger: 0, sendHighWaterMark: 0, receiveHighWaterMark: 1 });
  t.teardown(() => deaf.close());
  deaf.connect(a.ep);
  const get = STORE_COMMANDS.get.encodeRequest({ keys: [key] });
  for (let id = 1; id <= REQUESTS; id++) await deaf.send(encodeRequest({ id, cmd: 'get', epoch: 0, body: get }));

  // Until the actor has answered (or dropped) them all: the drop counter stops moving.
  let dropped = -1;
  let peak = rssBefore;
  for (let i = 0; i < 60; i++) {
    await new Promise((r) => setTimeout(r, 500));
    peak = Math.max(peak, rssKiB(a.proc.pid!));
    const stats = STORE_COMMANDS.stats.decodeReply((await peer.ask('stats', Buffer.alloc(0))).body) as { droppedReplies?: number };
    if (stats.droppedReplies === dropped && dropped > 0) break;
    dropped = stats.droppedReplies ?? 0;
  }
  t.log(`actor RSS ${(rssBefore / 1024).toFixed(0)} MiB before, ${(peak / 1024).toFixed(0)} MiB peak; ${dropped} of ${REQUESTS} replies dropped`);
  t.true(peak - rssBefore < RSS_GROWTH_LIMIT_KIB, `RSS grew by ${((peak - rssBefore) / 1024).toFixed(0)} MiB`);
  t.true(dropped > 0 && dropped < REQUESTS, `${dropped} dropped`);
  t.is((await peer.ask('ping', Buffer.alloc(0))).code, 'OK', 'others are still served');
  for (let i = 0; i < 30 && !/dropped \d+ repl/.test(a.output()); i++) await new Promise((r) => setTimeout(r, 500));
  t.regex(a.output(), /dropped \d+ repl/);
});
