// The request channel (store/client/request_channel.ts) on real ZeroMQ sockets, as the store client uses it
// (Connection) and as actors use it to reach each other (PeerLink), against a scripted ROUTER standing in for an
// actor: replies matched by id in any order, bundling, timeouts and their error classes, process-wide request
// ids, a dead peer costing dropped frames rather than a stuck sender, and close.
import test from 'ava';
import zmq from 'zeromq';
import { RequestType, encodeReply, type Reply, type Request } from '../schemas/envelope.js';
import { Connection, TimeoutError } from '../store/client/connection.js';
import { PeerDisconnected, PeerLink, PeerTimeout } from '../store/client/peer_link.js';

/** A ROUTER that records the requests of every message it gets and answers as `answer` says (null: not now). */
class ScriptedActor {
  readonly messages: Request[][] = [];
  answer: (req: Request) => Reply | null = echo;
  private readonly router = new zmq.Router({ linger: 0 });
  private peer: Buffer | null = null;

  private constructor(readonly endpoint: string) {}

  static async bind(endpoint = 'tcp://127.0.0.1:*'): Promise<ScriptedActor> {
    const probe = new ScriptedActor(endpoint);
    await probe.router.bind(endpoint);
    const actor = Object.assign(probe, { endpoint: probe.router.lastEndpoint! });
    void actor.serve();
    return actor;
  }

  get requests(): Request[] {
    return this.messages.flat();
  }

  /** Sends a reply now (to the last peer heard from), e.g. one held back or a late one. */
  async reply(rep: Reply): Promise<void> {
    await this.router.send([this.peer!, encodeReply(rep)]);
  }

  close(): void {
    this.router.close();
  }

  private async serve(): Promise<void> {
    try {
      for await (const [peer, ...frames] of this.router) {
        this.peer = peer!;
        const reqs = frames.flatMap((f) => requestsIn(f));
        this.messages.push(reqs);
        for (const req of reqs) {
          const rep = this.answer(req);
          if (rep) await this.reply(rep);
        }
      }
    } catch {
      // closed
    }
  }
}

function requestsIn(frame: Buffer): Request[] {
  const out: Request[] = [];
  for (let pos = 0; pos < frame.length; ) {
    const r = RequestType.decode(frame, pos);
    out.push(r.value as Request);
    pos = r.offset;
  }
  return out;
}

function echo(req: Request): Reply {
  return { id: req.id, code: 'OK', message: '', retryable: false, redirect: null, body: req.body };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('each request gets its own reply, in whatever order the replies come', async (t) => {
  const actor = await ScriptedActor.bind();
  t.teardown(() => actor.close());
  const held: Request[] = [];
  actor.answer = (req) => {
    held.push(req);
    if (held.length === 10) for (const r of held.reverse()) void actor.reply(echo(r));
    return null;
  };
  const conn = new Connection(actor.endpoint);
  t.teardown(() => conn.close());
  const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => conn.request('get', Buffer.from(`body ${i}`), 5000)));
  t.deepEqual(replies.map((r) => r.body.toString()), Array.from({ length: 10 }, (_, i) => `body ${i}`));
  t.is(conn.inFlight, 0);
});

test('a client connection sends a burst in bundles of at most 128 requests; a peer link sends each alone', async (t) => {
  const actor = await ScriptedActor.bind();
  t.teardown(() => actor.close());
  const conn = new Connection(actor.endpoint);
  t.teardown(() => conn.close());
  await Promise.all(Array.from({ length: 300 }, () => conn.request('get', Buffer.alloc(8), 5000)));
  t.deepEqual(actor.messages.map((m) => m.length), [128, 128, 44]);

  actor.messages.length = 0;
  const link = new PeerLink();
  t.teardown(() => link.close());
  await Promise.all(Array.from({ length: 3 }, () => link.request(actor.endpoint, 'gossip', Buffer.alloc(8), 5000)));
  t.deepEqual(actor.messages.map((m) => m.length), [1, 1, 1]);
});

test('an unanswered request fails with TimeoutError (client) or PeerTimeout (peer) after its timeout; a late reply is dropped', async (t) => {
  const actor = await ScriptedActor.bind();
  t.teardown(() => actor.close());
  actor.answer = (req) => (req.cmd === 'hang' ? null : echo(req));
  const conn = new Connection(actor.endpoint);
  t.teardown(() => conn.close());
  const link = new PeerLink();
  t.teardown(() => link.close());

  const started = performance.now();
  const err = await t.throwsAsync(conn.request('hang', Buffer.alloc(0), 150), { instanceOf: TimeoutError });
  t.true(performance.now() - started >= 150, 'failed before its timeout');
  t.like(err, { endpoint: actor.endpoint, cmd: 'hang', ms: 150 });
  await t.throwsAsync(link.request(actor.endpoint, 'hang', Buffer.alloc(0), 150), { instanceOf: PeerTimeout });

  // The actor answers the timed-out request after all: nothing takes that reply, and the channel carries on.
  // (On a loaded machine the request may reach the actor only after its timeout: wait for it.)
  let late: Request | undefined;
  for (let i = 0; i < 500 && !(late = actor.requests.find((r) => r.cmd === 'hang')); i++) await sleep(10);
  if (!late) return t.fail('the actor never got the request that timed out');
  await actor.reply({ ...echo(late), body: Buffer.from('late') });
  const next = await conn.request('get', Buffer.from('next'), 5000);
  t.is(next.body.toString(), 'next');
  t.is(conn.inFlight, 0);
});

test('a silent actor with requests pending is reported as stalled every stallMs; one that answers is not; failPending fails what waits', async (t) => {
  const actor = await ScriptedActor.bind();
  t.teardown(() => actor.close());
  actor.answer = (req) => (req.cmd === 'hang' ? null : echo(req));
  let stalls = 0;
  const conn = new Connection(actor.endpoint, {}, { stallMs: 100, onStall: () => stalls++ });
  t.teardown(() => conn.close());
  await conn.request('get', Buffer.alloc(0), 5000); // connected (which may take longer than 100 ms on a busy machine)
  stalls = 0;
  // An actor that answers is not reported: a stall only for a reply slower than stallMs (on a loaded
  // machine one may be), never for the quick ones.
  let slow = 0;
  for (let i = 0; i < 10; i++) {
    const sent = performance.now();
    await conn.request('get', Buffer.alloc(0), 5000);
    if (performance.now() - sent >= 100) slow++;
  }
  t.true(stalls <= slow, `${stalls} stalls for ${slow} replies slower than 100 ms`);
  const hung = conn.request('hang', Buffer.alloc(0), 5000);
  await sleep(550);
  t.true(stalls >= 2 && stalls <= 6, `${stalls} stalls in 550 ms`);
  conn.failPending(new Error('the actor is dead'));
  await t.throwsAsync(hung, { message: 'the actor is dead' });
  t.is((await conn.request('get', Buffer.from('still open'), 5000)).body.toString(), 'still open');
});

test('request ids are unique across the channels of a process and never 0', async (t) => {
  const actor = await ScriptedActor.bind();
  t.teardown(() => actor.close());
  const first = new Connection(actor.endpoint);
  const second = new Connection(actor.endpoint);
  const link = new PeerLink();
  t.teardown(() => [first, second].forEach((c) => c.close()));
  t.teardown(() => link.close());
  const sends = Array.from({ length: 50 }, () => [
    first.request('get', Buffer.alloc(0), 5000),
    second.request('get', Buffer.alloc(0), 5000),
    link.request(actor.endpoint, 'get', Buffer.alloc(0), 5000),
  ]);
  await Promise.all(sends.flat());
  const ids = actor.requests.map((r) => r.id);
  t.is(ids.length, 150);
  t.is(new Set(ids).size, 150);
  t.false(ids.includes(0));
});

test('a peer link to a dead peer drops what its queue cannot hold instead of waiting, and serves the peer once it is back', async (t) => {
  // A free port, then nothing listening on it.
  const placeholder = await ScriptedActor.bind();
  const endpoint = placeholder.endpoint;
  placeholder.close();
  const link = new PeerLink();
  t.teardown(() => link.close());
  const STALE = 3000; // more than the 2000 messages a peer's queue holds
  const stale = await Promise.allSettled(Array.from({ length: STALE }, () => link.request(endpoint, 'stale', Buffer.alloc(0), 300)));
  // Timed out, or, when the closing placeholder was still there to connect to (a loaded machine), dropped with the connection.
  const reasons = stale.map((s) => (s.status === 'rejected' ? (s.reason as Error).constructor.name : 'resolved'));
  t.true(stale.every((s) => s.status === 'rejected' && (s.reason instanceof PeerTimeout || s.reason instanceof PeerDisconnected)), [...new Set(reasons)].join(', '));

  let actor: ScriptedActor | null = null;
  for (let attempt = 0; !actor; attempt++) {
    try {
      actor = await ScriptedActor.bind(endpoint);
    } catch (err) {
      if (attempt >= 50) throw err;
      await sleep(100); // the port may take a moment to be free again
    }
  }
  t.teardown(() => actor!.close());
  actor.answer = (req) => (req.cmd === 'fresh' ? echo(req) : null);
  // Until the peer is connected and the queue drained, a new request may be dropped too: retry, as gossip does.
  let fresh: Reply | null = null;
  for (let attempt = 0; !fresh && attempt < 20; attempt++) fresh = await link.tryRequest(endpoint, 'fresh', Buffer.from('fresh'), 500);
  t.is(fresh?.body.toString(), 'fresh');
  const staleSeen = actor.requests.filter((r) => r.cmd === 'stale').length;
  t.true(staleSeen < STALE, `all ${STALE} stale requests waited in the sender for the peer (saw ${staleSeen})`);
});

// A restarted peer never answers what the process before it was asked: its ROUTER routes replies by connection. A
// fork move waits this way for the target's digest (60 s) with the fork fenced, so the link must not wait it out.
test('a peer link fails its requests to a peer at once when the connection drops, and serves the peer once it is back', async (t) => {
  const actor = await ScriptedActor.bind();
  const endpoint = actor.endpoint;
  actor.answer = () => null;
  const link = new PeerLink();
  t.teardown(() => link.close());
  const hanging = link.request(endpoint, 'hang', Buffer.alloc(0), 30000);
  while (!actor.requests.length) await sleep(10);
  const started = performance.now();
  actor.close();
  const err = await t.throwsAsync(hanging);
  t.true(err instanceof PeerDisconnected, `failed with ${err?.constructor.name}: ${err?.message}`);
  t.true(performance.now() - started < 2000, `failed after ${Math.round(performance.now() - started)} ms`);

  let back: ScriptedActor | null = null;
  for (let attempt = 0; !back; attempt++) {
    try {
      back = await ScriptedActor.bind(endpoint);
    } catch (err) {
      if (attempt >= 50) throw err;
      await sleep(100);
    }
  }
  t.teardown(() => back!.close());
  const rep = await link.request(endpoint, 'fresh', Buffer.from('fresh'), 5000);
  t.is(rep.body.toString(), 'fresh');
});

test('close fails the pending requests at once, not by timeout, and later requests too', async (t) => {
  const actor = await ScriptedActor.bind();
  t.teardown(() => actor.close());
  actor.answer = () => null;
  const conn = new Connection(actor.endpoint);
  const link = new PeerLink();
  const pending = [conn.request('hang', Buffer.alloc(0), 60000), link.request(actor.endpoint, 'hang', Buffer.alloc(0), 60000)];
  await sleep(50);
  const started = performance.now();
  conn.close();
  link.close();
  for (const p of pending) {
    const err = await t.throwsAsync(p);
    t.false(err instanceof TimeoutError || err instanceof PeerTimeout);
  }
  t.true(performance.now() - started < 1000);
  await t.throwsAsync(conn.request('get', Buffer.alloc(0), 60000));
  await t.throwsAsync(link.request(actor.endpoint, 'get', Buffer.alloc(0), 60000));
});
