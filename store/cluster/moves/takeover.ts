// Runs takeover machines (takeover_machine.ts) against the real actor, peer link and cluster: forced moves of dead
// owners' forks to this actor, any number of forks per run (one map change, one quorum round, one lease wait).
import type { StoreActor } from '../../actor/actor.js';
import type { PeerLink } from '../../client/peer_link.js';
import type { MoveIntents } from './intents.js';
import { pushEntries } from './map_push.js';
import type { MoveCluster } from './move_cluster.js';
import { TakeoverMachine, type TakeoverAction, type TakeoverEvent, type TakeoverIntent, type TakeoverOutcome } from './takeover_machine.js';

interface TakeoverRun {
  machine: TakeoverMachine;
  /** The forks it fenced: busy until it finishes. */
  forks: string[];
  report: ((outcomes: TakeoverOutcome[]) => void) | null;
}

export class Takeovers {
  /** The run each fork being taken over belongs to. */
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

  /** Takes `forks` over together; resolves with what became of each. `busy(fork)`: another move of it runs here. */
  takeOver(forks: string[], busy: (fork: string) => boolean): Promise<TakeoverOutcome[]> {
    const a = this.actor;
    const candidates = [...new Set(forks)].map((fork) => {
      const entry = a.map.get(fork);
      const pending = this.intents.get(fork);
      return {
        fork,
        entry,
        ownerState: entry && this.cluster.memberState(entry.owner),
        pending: pending?.kind === 'takeover' ? pending : undefined,
        busy: busy(fork),
      };
    });
    const run = this.newRun();
    const reported = new Promise<TakeoverOutcome[]>((resolve) => (run.report = resolve));
    this.step(run, { kind: 'start', self: a.id, forks: candidates });
    return reported;
  }

  /** After a restart: adopted but unfinished takeovers keep their forks fenced until a re-run finishes them. */
  restart(intents: TakeoverIntent[]): void {
    this.step(this.newRun(), { kind: 'restart-with-intents', self: this.actor.id, intents: intents.map((intent) => ({ intent, entry: this.actor.map.get(intent.fork) })) });
  }

  private newRun(): TakeoverRun {
    return { machine: new TakeoverMachine(this.cluster.leaseMs), forks: [], report: null };
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
    const failed = (err: Error) => this.step(run, { kind: 'io-failed', message: err.message });
    switch (action.kind) {
      case 'fence':
        for (const fork of action.forks) {
          a.fence(fork);
          this.runs.set(fork, run);
          run.forks.push(fork);
        }
        return;
      case 'unfence':
        for (const fork of action.forks) a.unfence(fork);
        return;
      case 'write-intents':
        this.intents.addAll(action.intents);
        return;
      case 'clear-intents':
        this.intents.removeAll(action.forks);
        return;
      case 'drop-forks':
        // One group commit for all of them.
        Promise.all(action.forks.map((fork) => a.dropFork(fork))).then(() => this.step(run, { kind: 'forks-dropped', mapVersion: a.map.version }), failed);
        return;
      case 'adopt': {
        let map = a.map;
        for (const entry of action.entries) map = map.withEntry(entry);
        a.applyMap(map);
        return;
      }
      case 'broadcast':
        pushEntries(this.link, this.cluster, action.entries).then((adopted) => this.step(run, { kind: 'broadcast-acked', adopted, quorum: this.cluster.quorum() }), failed);
        return;
      case 'set-timer':
        setTimeout(() => this.step(run, { kind: 'timer-fired' }), action.ms).unref();
        return;
      case 'report':
        run.report?.(action.outcomes);
        run.report = null;
        return;
      case 'finished':
        for (const fork of run.forks) if (this.runs.get(fork) === run) this.runs.delete(fork);
        return;
    }
  }
}
