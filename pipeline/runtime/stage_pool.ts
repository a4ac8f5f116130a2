// The worker threads of a run: one per stage worker, each running stage_actor.ts. The pool starts
// them, restarts one under a new incarnation, and tells the coordinator when one ends without
// being asked to (an exit, an uncaught error, a terminate()): that is a crash to recover from.
import { Worker } from 'node:worker_threads';
import type { ActorSpec } from './actor_spec.js';

const ACTOR_SCRIPT = new URL('./stage_actor.js', import.meta.url);

export interface Slot {
  stage: string;
  worker: number;
  spec: ActorSpec;
  thread: Worker;
  /** Set when the coordinator ends the worker: its exit is then no crash. */
  stopping: boolean;
  exited: Promise<number>;
  /** The uncaught error that ended the thread, if any. */
  error: Error | null;
}

export type CrashHandler = (slot: Slot, code: number, error: Error | null) => void;

export class StagePool {
  private readonly slots = new Map<string, Slot>();

  constructor(private readonly onCrash: CrashHandler) {}

  private static key(stage: string, worker: number): string {
    return `${stage}/${worker}`;
  }

  /** Starts (or restarts, replacing the old slot) the worker `spec` describes. */
  start(spec: ActorSpec): Slot {
    const thread = new Worker(ACTOR_SCRIPT, { workerData: spec });
    const slot: Slot = { stage: spec.stage, worker: spec.worker, spec, thread, stopping: false, error: null, exited: Promise.resolve(0) };
    slot.exited = new Promise((resolve) => {
      thread.on('error', (err) => (slot.error = err));
      thread.on('exit', (code) => {
        resolve(code);
        if (!slot.stopping && this.slots.get(StagePool.key(spec.stage, spec.worker)) === slot) this.onCrash(slot, code, slot.error);
      });
    });
    this.slots.set(StagePool.key(spec.stage, spec.worker), slot);
    return slot;
  }

  get(stage: string, worker: number): Slot | undefined {
    return this.slots.get(StagePool.key(stage, worker));
  }

  all(): Slot[] {
    return [...this.slots.values()];
  }

  /** Ends a worker as a crash would (the coordinator restarts it): for tests and fault drills. */
  async crash(stage: string, worker: number): Promise<void> {
    const slot = this.get(stage, worker);
    if (!slot) throw new Error(`no worker ${worker} of stage ${stage}`);
    await slot.thread.terminate();
  }

  /** Waits up to `timeoutMs` for every worker to exit on its own (after `end`), then terminates the rest. */
  async stopAll(timeoutMs: number): Promise<void> {
    const slots = this.all();
    for (const s of slots) s.stopping = true;
    const timer = new Promise<'late'>((r) => setTimeout(() => r('late'), timeoutMs).unref());
    await Promise.all(
      slots.map(async (s) => {
        if ((await Promise.race([s.exited, timer])) === 'late') await s.thread.terminate();
      }),
    );
  }
}
