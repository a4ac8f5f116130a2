// The stage actors of a run, each a child process (default) or a worker thread running
// stage_actor.ts. The pool starts them, restarts one under a new incarnation, and tells the
// coordinator when one ends without being asked to (an exit, an uncaught error, a kill): a crash
// to recover from.
//
// A child actor holds an IPC channel to the coordinator only to notice its death: when the
// coordinator is killed, the channel closes and the actor exits instead of lingering.
//
// Why processes by default: zeromq.js aborts the whole Node process when a worker thread holding
// sockets ends abruptly (worker.terminate(), an uncaught exception; zeromq/zeromq.js#411, open),
// so a crashing thread would take the coordinator and every other stage with it. A process is
// also what a remote `pipeline worker` will run, and its peak RSS is its own. Threads stay
// available (`host: 'thread'`) for runs where start-up time matters more than crash isolation.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ActorSpec } from './actor_spec.js';

const ACTOR_SCRIPT = new URL('./stage_actor.js', import.meta.url);

/**
 * How long an actor's last events (sent on the control socket just before it ends) get to arrive
 * once its exit is seen: the exit can be seen first. A fatal error's report read after the exit was
 * taken for a crash, and the actor restarted (a CI run of pipeline_runtime_faults: a message of
 * another schema version, then a run that went on).
 */
export const EXIT_EVENTS_GRACE_MS = 500;

export type ActorHost = 'process' | 'thread';

export interface Slot {
  stage: string;
  worker: number;
  spec: ActorSpec;
  /** The process id (process host; the coordinator's own for threads). */
  pid: number;
  /** Set when the coordinator ends the actor: its exit is then no crash. */
  stopping: boolean;
  /** Resolves with the exit code (128 + signal number for a signal). */
  exited: Promise<number>;
  /** The uncaught error that ended a thread, if any. */
  error: Error | null;
  /** Ends the actor at once, as a crash would. */
  kill(): Promise<void>;
}

export type CrashHandler = (slot: Slot, code: number, error: Error | null) => void;

const SIGNALS: Record<string, number> = { SIGKILL: 9, SIGTERM: 15, SIGABRT: 6, SIGSEGV: 11, SIGINT: 2 };

export class StagePool {
  private readonly slots = new Map<string, Slot>();

  constructor(
    private readonly onCrash: CrashHandler,
    private readonly host: ActorHost = 'process',
    /** Starts an actor on another host when its stage is placed there (worker_hosts.ts); null: here. */
    private readonly remote: (spec: ActorSpec) => Slot | null = () => null,
  ) {}

  private static key(stage: string, worker: number): string {
    return `${stage}/${worker}`;
  }

  /** Starts (or restarts, replacing the old slot) the actor `spec` describes. */
  start(spec: ActorSpec): Slot {
    const slot = this.remote(spec) ?? (this.host === 'thread' ? this.startThread(spec) : this.startProcess(spec));
    this.slots.set(StagePool.key(spec.stage, spec.worker), slot);
    void slot.exited.then(async (code) => {
      await new Promise((resolve) => setTimeout(resolve, EXIT_EVENTS_GRACE_MS));
      if (!slot.stopping && this.slots.get(StagePool.key(spec.stage, spec.worker)) === slot) this.onCrash(slot, code, slot.error);
    });
    return slot;
  }

  private startProcess(spec: ActorSpec): Slot {
    const child = spawn(process.execPath, [fileURLToPath(ACTOR_SCRIPT), JSON.stringify(spec)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? 128 + (SIGNALS[signal ?? ''] ?? 0))));
    return {
      stage: spec.stage,
      worker: spec.worker,
      spec,
      pid: child.pid ?? -1,
      stopping: false,
      error: null,
      exited,
      kill: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exited;
      },
    };
  }

  private startThread(spec: ActorSpec): Slot {
    const thread = new Worker(ACTOR_SCRIPT, { workerData: spec });
    const slot: Slot = {
      stage: spec.stage,
      worker: spec.worker,
      spec,
      pid: process.pid,
      stopping: false,
      error: null,
      exited: new Promise<number>((resolve) => thread.once('exit', resolve)),
      kill: async () => {
        await thread.terminate();
      },
    };
    thread.on('error', (err) => (slot.error = err));
    return slot;
  }

  get(stage: string, worker: number): Slot | undefined {
    return this.slots.get(StagePool.key(stage, worker));
  }

  all(): Slot[] {
    return [...this.slots.values()];
  }

  /** Ends an actor as a crash would (the coordinator restarts it): for tests and fault drills. */
  async crash(stage: string, worker: number): Promise<void> {
    const slot = this.get(stage, worker);
    if (!slot) throw new Error(`no worker ${worker} of stage ${stage}`);
    await slot.kill();
  }

  /** Waits up to `timeoutMs` for every actor to exit on its own (after `end`), then kills the rest. */
  async stopAll(timeoutMs: number): Promise<void> {
    const slots = this.all();
    for (const s of slots) s.stopping = true;
    const late = new Promise<'late'>((r) => setTimeout(() => r('late'), timeoutMs).unref());
    await Promise.all(
      slots.map(async (s) => {
        if ((await Promise.race([s.exited, late])) === 'late') await s.kill();
      }),
    );
  }
}
