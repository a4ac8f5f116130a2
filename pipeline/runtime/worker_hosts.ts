// The coordinator's side of `dbslm pipeline worker`: a Router socket the workers of other hosts
// connect to. Each says hello with its host name; a stage placed on that host (`host:` in the
// YAML) is started there (a RemoteSlot for the stage pool), and the worker reports its exit, which
// the pool treats as it treats a local actor's: a crash to recover from unless the coordinator
// stopped it. The stage actors then talk to the coordinator and their neighbours directly.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zmq from 'zeromq';
import { InputError } from '../../model/errors.js';
import { decodeWorkerMessage, encodeWorkerMessage, type WorkerMessage } from '../../schemas/pipeline_workers.js';
import type { ActorSpec } from './actor_spec.js';
import type { Slot } from './stage_pool.js';

/** The dist directory of this dbslm: a worker maps module URLs under it to its own. */
export const DIST_ROOT = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));

export class WorkerHosts {
  private readonly ids = new Map<string, Buffer>();
  private readonly arrived = new Map<string, () => void>();
  private readonly exits = new Map<string, (code: number) => void>();
  private closed = false;

  private constructor(
    private readonly router: zmq.Router,
    readonly endpoint: string,
  ) {}

  /** Binds `endpoint` (tcp://ADDRESS:PORT; port 0: any free one, see .endpoint). */
  static async listen(endpoint: string): Promise<WorkerHosts> {
    const router = new zmq.Router({ linger: 0 });
    await router.bind(endpoint);
    const hosts = new WorkerHosts(router, router.lastEndpoint ?? endpoint);
    void hosts.receive();
    return hosts;
  }

  private async receive(): Promise<void> {
    try {
      for await (const [id, body] of this.router) {
        let message: WorkerMessage;
        try {
          message = decodeWorkerMessage(body!);
        } catch {
          continue; // not one of ours: a stray connection
        }
        if (message.kind === 'hello') {
          this.ids.set(message.name, Buffer.from(id!));
          this.arrived.get(message.name)?.();
        } else if (message.kind === 'exited') {
          const key = `${message.stage}/${message.worker}/${message.incarnation}`;
          this.exits.get(key)?.(message.code);
          this.exits.delete(key);
        }
      }
    } catch (err) {
      if (!this.closed) throw err;
    }
  }

  /** Resolves once a worker of every host in `names` said hello; fails after `timeoutMs` naming the missing ones. */
  async waitFor(names: readonly string[], timeoutMs: number, onWaiting: (missing: string[]) => void): Promise<void> {
    const missing = () => names.filter((n) => !this.ids.has(n));
    if (missing().length > 0) onWaiting(missing());
    await Promise.race([
      Promise.all(names.map((n) => (this.ids.has(n) ? undefined : new Promise<void>((r) => this.arrived.set(n, r))))),
      new Promise<never>((_, reject) =>
        setTimeout(
          () =>
            reject(
              // The user's to fix (start the workers, or place the stages here): exit 1, as an unreachable store.
              new InputError(`no pipeline worker for host${missing().length === 1 ? '' : 's'} ${missing().join(', ')} connected to ${this.endpoint} within ${timeoutMs} ms: start \`dbslm pipeline worker --connect ${this.endpoint} --name HOST\` on each`),
            ),
          timeoutMs,
        ).unref(),
      ),
    ]);
  }

  private async send(host: string, message: WorkerMessage): Promise<void> {
    const id = this.ids.get(host);
    if (!id) throw new Error(`no pipeline worker for host ${host} is connected`);
    await this.router.send([id, encodeWorkerMessage(message)]);
  }

  /** Starts `spec` on `host`'s worker: a stage pool slot whose exit the worker reports. */
  start(host: string, spec: ActorSpec): Slot {
    const exited = new Promise<number>((resolve) => this.exits.set(`${spec.stage}/${spec.worker}/${spec.incarnation}`, resolve));
    void this.send(host, { kind: 'start', spec: JSON.stringify(spec), distRoot: DIST_ROOT });
    return {
      stage: spec.stage,
      worker: spec.worker,
      spec,
      pid: -1,
      stopping: false,
      error: null,
      exited,
      kill: async () => {
        await this.send(host, { kind: 'kill', stage: spec.stage, worker: spec.worker });
        await exited;
      },
    };
  }

  /** Tells every worker the run is over, then closes. */
  async close(): Promise<void> {
    for (const host of this.ids.keys()) await this.send(host, { kind: 'bye' }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
    this.closed = true;
    this.router.close();
  }
}
