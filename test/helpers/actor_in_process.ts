// A StoreActor in the test process, bound on a real ROUTER (tcp://127.0.0.1:0) over a real SQLite
// file, and a raw DEALER that sends requests to it in one frame, so a test sees every reply code
// as it is and can put several requests into one group commit.
import type { ExecutionContext } from 'ava';
import zmq from 'zeromq';
import { encodeRequest, repliesIn, type Reply } from '../../schemas/envelope.js';
import { StoreActor, type ActorOptions } from '../../store/actor/actor.js';
import { tmpDir } from './store_procs.js';

export async function startActor(t: ExecutionContext, opts: Partial<ActorOptions> = {}): Promise<StoreActor> {
  const actor = new StoreActor({ id: 'a', bind: 'tcp://127.0.0.1:0', dataDir: tmpDir(), durability: 'normal', ...opts });
  await actor.start();
  t.teardown(() => actor.stop());
  return actor;
}

const REPLY_TIMEOUT_MS = 5000;

export interface Call {
  cmd: string;
  body: Buffer;
}

/** A DEALER that matches replies to requests by id. */
export class RawPeer {
  private readonly sock = new zmq.Dealer({ linger: 0 });
  private readonly waiting = new Map<number, (r: Reply) => void>();
  private nextId = 1;

  constructor(t: ExecutionContext, endpoint: string) {
    this.sock.connect(endpoint);
    t.teardown(() => this.sock.close());
    void this.receive();
  }

  ask(cmd: string, body: Buffer): Promise<Reply> {
    return this.request({ cmd, body });
  }

  request(call: Call): Promise<Reply> {
    return this.bundle([call]).then((r) => r[0]!);
  }

  /** Send the calls back to back in one frame (the actor dispatches them in one turn: one group commit); replies in call order. */
  bundle(calls: Call[]): Promise<Reply[]> {
    const ids = calls.map(() => this.nextId++);
    const replies = Promise.all(ids.map((id) => new Promise<Reply>((resolve) => this.waiting.set(id, resolve))));
    void this.sock.send(Buffer.concat(calls.map((c, i) => encodeRequest({ id: ids[i]!, cmd: c.cmd, epoch: 0, body: c.body }))));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no reply to ${calls.map((c) => c.cmd).join(', ')} within ${REPLY_TIMEOUT_MS} ms`)), REPLY_TIMEOUT_MS);
    });
    return Promise.race([replies, timeout]).finally(() => clearTimeout(timer));
  }

  private async receive(): Promise<void> {
    try {
      for await (const frames of this.sock) {
        for (const frame of frames) {
          for (const reply of repliesIn(frame)) {
            this.waiting.get(reply.id)?.(reply);
            this.waiting.delete(reply.id);
          }
        }
      }
    } catch {
      // closed at teardown
    }
  }
}
