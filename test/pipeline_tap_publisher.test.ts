// The tap publisher's promise to the stage, with real ZeroMQ sockets: with no subscriber nothing is
// encoded or sent; with one, copies arrive; with one that does not read, offer() still returns at
// once and the publisher holds a bounded number of messages (the rest are dropped, not queued).
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import zmq from 'zeromq';
import { TAP_HWM, TapPublisher } from '../pipeline/runtime/tap_publisher.js';
import { tmpDir } from './helpers/runtime_plans.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, withinMs: number, what: string): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what} not within ${withinMs} ms`);
    await sleep(10);
  }
}

test('a tap publisher encodes and sends only while subscribed, and never waits for a slow subscriber', async (t) => {
  const dir = tmpDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const ep = `ipc://${path.join(dir, 'tap.sock')}`;
  const tap = new TapPublisher();
  t.teardown(() => tap.close());
  await tap.bind(ep);

  let encoded = 0;
  const message = (i: number) => () => {
    encoded++;
    return Buffer.from(`m${i}`);
  };
  for (let i = 0; i < 100; i++) tap.offer(message(i));
  t.false(tap.listening);
  t.is(encoded, 0, 'nobody subscribed: nothing encoded');

  const sub = new zmq.Subscriber({ linger: 0, receiveTimeout: 2000, receiveHighWaterMark: TAP_HWM });
  sub.subscribe();
  sub.connect(ep);
  await until(() => tap.listening, 5000, 'the subscription');
  let n = 0;
  const receiving = (async () => {
    const [m] = (await sub.receive()) as [Buffer];
    return m.toString();
  })();
  // Offer until one gets through (sends while one is pending are skipped).
  while (n < 1000) {
    tap.offer(message(n++));
    await sleep(1);
    if (encoded > 0 && (await Promise.race([receiving.then(() => true), sleep(5).then(() => false)]))) break;
  }
  t.regex(await receiving, /^m\d+$/);

  // A subscriber that stops reading: 20000 offers of 64 KiB still return at once.
  const big = Buffer.alloc(64 * 1024, 1);
  const began = performance.now();
  for (let i = 0; i < 20000; i++) {
    tap.offer(() => big);
    if (i % 100 === 0) await sleep(0); // let sends settle, as a stage's event loop would
  }
  t.true(performance.now() - began < 5000, 'offers never waited for the subscriber');
  // What the subscriber can read now is bounded by the high-water marks, not the 20000 offered.
  let queued = 0;
  sub.receiveTimeout = 200;
  for (;;) {
    try {
      await sub.receive();
      queued++;
    } catch {
      break;
    }
  }
  t.log(`${queued} reached the subscriber`);
  t.true(queued > 0 && queued <= 100, `${queued} messages reached the subscriber of 20000 offered (high-water mark ${TAP_HWM} each side)`);

  sub.close();
  await until(() => !tap.listening, 5000, 'the unsubscription of a closed subscriber');
  const before = encoded;
  for (let i = 0; i < 10; i++) tap.offer(message(i));
  t.is(encoded, before, 'after the tap left, nothing is encoded again');
});
