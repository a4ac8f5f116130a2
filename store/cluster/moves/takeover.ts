// Runs takeover machines (takeover_machine.ts) against the real actor, peer link and cluster: forced moves of a
// dead owner's forks to this actor, one run per fork.
import type { MoveReply } from '../../../schemas/moves.js';
import type { StoreActor } from '../../actor/actor.js';
import type { PeerLink } from '../../client/peer_link.js';
import { StoreError } from '../../protocol/errors.js';
import type { MoveIntents } from './intents.js';
import { pushEntries } from './map_push.js';
import type { MoveCluster } from './move_cluster.js';
import { TakeoverMachine, type TakeoverAction, type TakeoverEvent, type TakeoverIntent } from './takeover_machine.js';

interface TakeoverRun {
  machine: TakeoverMachine;
  fork: string;
  startedAt: number;
  operator: { resolve: (r: MoveReply) => void; reject: (e: StoreError) => void } | null;
}

export class Takeovers {
  private readonly runs = new Map<string, TakeoverRun>();

  constructor(
    private readonly actor: StoreActor,
    private readonly cluster: MoveCluster,
    private readonly link: PeerLink,
    private readonly intents: MoveIntents,
  ) {}

  busy(fork: string): boolean {
    return this.runs.has(fork);
  }

  takeOver(fork: string): Promise<MoveReply> {
    const a = this.actor;
    const entry = a.map.get(fork)!;
    const run = this.newRun(fork);
    const replied = new Promise<MoveReply>((resolve, reject) => (run.operator = { resolve, reject }));
    this.step(run, {
      kind: 'start',
      fork,
      self: a.id,
      entry,
      ownerState: this.cluster.memberState(entry.owner),
      pending: this.intents.get(fork)?.kind === 'takeover',
    });
    return replied;
  }

  /** After a restart: an adopted but unfinished takeover keeps its fork fenced until a re-run finishes it. */
  restart(intent: TakeoverIntent): void {
    this.step(this.newRun(intent.fork), { kind: 'restart-with-intent', self: this.actor.id, intent, entry: this.actor.map.get(intent.fork) });
  }

  private newRun(fork: string): TakeoverRun {
    const run: TakeoverRun = { machine: new TakeoverMachine(this.cluster.leaseMs), fork, startedAt: performance.now(), operator: null };
    this.runs.set(fork, run);
    return run;
  }

  /** Results arrive from promises and timers, never while the machine is handling an event. */
  private step(run: TakeoverRun, event: TakeoverEvent): void {
    for (const action of run.machine.handle(event)) {
      try {
        this.execute(run, action);
      } catch (err) {
        queueMicrotask(() => this.step(run, { kind: 'io-failed', message: (err as Error).message }));
        return;
      }
    }
  }

  private execute(run: TakeoverRun, action: TakeoverAction): void {
    const a = this.actor;
    const fork = run.fork;
    const failed = (err: Error) => this.step(run, { kind: 'io-failed', message: err.message });
    switch (action.kind) {
      case 'fence':
        a.fence(fork);
        return;
      case 'unfence':
        a.unfence(fork);
        return;
      case 'write-intent':
        this.intents.add(action.intent);
        return;
      case 'clear-intent':
        this.intents.remove(fork);
        return;
      case 'drop-fork':
        a.dropFork(fork).then(() => this.step(run, { kind: 'fork-dropped', mapVersion: a.map.version }), failed);
        return;
      case 'adopt':
        a.applyMap(a.map.withEntry(action.entry));
        return;
      case 'broadcast':
        pushEntries(this.link, this.cluster, action.entries).then((adopted) => this.step(run, { kind: 'broadcast-acked', adopted, quorum: this.cluster.quorum() }), failed);
        return;
      case 'set-timer':
        setTimeout(() => this.step(run, { kind: 'timer-fired' }), action.ms).unref();
        return;
      case 'succeed':
        run.operator?.resolve({ fork, from: action.from, to: a.id, epoch: action.epoch, keys: 0, rounds: 0, ms: Math.round(performance.now() - run.startedAt) });
        run.operator = null;
        return;
      case 'fail':
        run.operator?.reject(new StoreError(action.code, action.message, action.retryable));
        run.operator = null;
        return;
      case 'finished':
        if (this.runs.get(fork) === run) this.runs.delete(fork);
        return;
    }
  }
}
