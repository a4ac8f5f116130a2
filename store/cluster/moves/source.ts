// Runs source machines (source_machine.ts) against the real actor, peer link and cluster: one run per fork being
// moved out or having its cut-over resolved. It only carries actions out and turns their results into events; every
// decision is the machine's.
import { randomBytes } from 'node:crypto';
import { CLUSTER_COMMANDS } from '../../../schemas/cluster.js';
import type { Reply } from '../../../schemas/envelope.js';
import type { ForkChunk } from '../../../schemas/fork_chunk.js';
import { MOVE_COMMANDS, type MoveReply } from '../../../schemas/moves.js';
import type { StoreActor } from '../../actor/actor.js';
import type { PeerLink } from '../../client/peer_link.js';
import { StoreError } from '../../protocol/errors.js';
import { digestOfFork } from './digest.js';
import type { MoveIntents } from './intents.js';
import { pushEntries } from './map_push.js';
import type { MoveCluster, MoveReplication } from './move_cluster.js';
import { SOURCE_TUNING, type CutOverIntent, type SourceAction, type SourceEvent } from './source_events.js';
import { SourceMachine } from './source_machine.js';

/** How long the target may take to say whether it holds its lease (asked again on the next poll). */
const TARGET_LEASE_ASK_MS = 1000;

interface SourceRun {
  machine: SourceMachine;
  fork: string;
  to: string;
  startedAt: number;
  /** Events wait here while an earlier one is being handled, so the machine sees them one at a time, in order. */
  queue: SourceEvent[];
  stepping: boolean;
  unwatch: (() => void) | null;
  snapshot: AsyncGenerator<ForkChunk> | null;
  operator: { resolve: (r: MoveReply) => void; reject: (e: StoreError) => void } | null;
}

export class SourceSide {
  private readonly runs = new Map<string, SourceRun>();

  constructor(
    private readonly actor: StoreActor,
    private readonly cluster: MoveCluster,
    private readonly link: PeerLink,
    private readonly intents: MoveIntents,
    private readonly replication: MoveReplication,
  ) {}

  /** A move out of this fork, or the resolution of its last cut-over, is running. */
  busy(fork: string): boolean {
    return this.runs.has(fork);
  }

  /**
   * Moves `fork` (owned here) to `to`; resolves once the target owns it and the rows here are gone, or, for a
   * handover to an in-sync replica (`handover`), once the target owns it and this member is its replica.
   */
  moveOut(fork: string, to: string, handover = false): Promise<MoveReply> {
    const self = this.actor.id;
    const moveId = `${self}:${fork}:${Date.now().toString(36)}:${randomBytes(3).toString('hex')}`;
    const run = this.newRun(fork, to);
    const replied = new Promise<MoveReply>((resolve, reject) => (run.operator = { resolve, reject }));
    // Watch before the snapshot starts, so every change committed after any snapshot read is in the tail.
    run.unwatch = this.actor.watchFork(fork, (chunk) => this.step(run, { kind: 'tail-observed', chunk }));
    this.step(run, { kind: 'start', moveId, fork, self, to, targetState: this.cluster.memberState(to), handover });
    return replied;
  }

  /** After a restart: the fork stays fenced until the target of the cut-over has told the outcome. */
  resolve(intent: CutOverIntent): void {
    this.step(this.newRun(intent.fork, intent.to), { kind: 'restart-with-intent', self: this.actor.id, intent });
  }

  private newRun(fork: string, to: string): SourceRun {
    const run: SourceRun = {
      // A handover waits for the replicas no longer than the lag bound (the lease period): the owner would drop a
      // replica that lags longer, but makes no change to the entry of a fork being moved, and every write of the
      // owner waits meanwhile for that replica.
      machine: new SourceMachine({ ...SOURCE_TUNING, leaseWaitMs: this.cluster.leaseMs * 2, replicaWaitMs: this.cluster.leaseMs }),
      fork,
      to,
      startedAt: performance.now(),
      queue: [],
      stepping: false,
      unwatch: null,
      snapshot: null,
      operator: null,
    };
    this.runs.set(fork, run);
    return run;
  }

  private step(run: SourceRun, event: SourceEvent): void {
    run.queue.push(event);
    if (run.stepping) return;
    run.stepping = true;
    try {
      for (let next = run.queue.shift(); next; next = run.queue.shift()) {
        for (const action of run.machine.handle(next)) {
          try {
            this.execute(run, action);
          } catch (err) {
            // The rest of this step is skipped: e.g. a cut-over is never sent when its intent could not be written.
            run.queue.push({ kind: 'io-failed', message: (err as Error).message });
            break;
          }
        }
      }
    } finally {
      run.stepping = false;
    }
  }

  private execute(run: SourceRun, action: SourceAction): void {
    const a = this.actor;
    const fork = run.fork;
    const later = (p: Promise<SourceEvent>) =>
      void p.then(
        (e) => this.step(run, e),
        (err: Error) => this.step(run, { kind: 'io-failed', message: err.message }),
      );
    switch (action.kind) {
      case 'read-snapshot':
        run.snapshot ??= a.exportFork(fork, SOURCE_TUNING.chunkRows);
        later(run.snapshot.next().then((r): SourceEvent => (r.done ? { kind: 'io-failed', message: 'the snapshot ended without a last chunk' } : { kind: 'snapshot-read', chunk: r.value })));
        return;
      case 'send-chunk': {
        const seq = action.seq;
        const body = MOVE_COMMANDS['move-chunk'].encodeRequest({ moveId: run.machine.moveId, fork, source: a.id, seq, chunk: action.chunk });
        later(this.request(run.to, 'move-chunk', body, action.timeoutMs).then((rep): SourceEvent =>
          !rep ? { kind: 'chunk-unanswered', seq } : rep.code === 'OK' ? { kind: 'chunk-acked', seq } : { kind: 'chunk-refused', seq, code: rep.code, message: rep.message }));
        return;
      }
      case 'fence':
        a.fence(fork);
        return;
      case 'unfence':
        a.unfence(fork);
        return;
      case 'await-group-commit':
        later(a.afterCommit().then((): SourceEvent => ({ kind: 'group-committed' })));
        return;
      case 'await-replicas':
        later(this.replication.caughtUp(fork, action.timeoutMs).then((place): SourceEvent => ({ kind: 'replicas-caught-up', place })));
        return;
      case 'become-replica':
        this.replication.becomeReplica(fork, action.term, action.seq);
        return;
      case 'compute-digest':
        later(digestOfFork(a, fork).then((d): SourceEvent => ({ kind: 'digest-computed', ...d })));
        return;
      case 'send-verify':
        later(this.request(run.to, 'move-verify', MOVE_COMMANDS['move-verify'].encodeRequest(action.verify), action.timeoutMs).then((rep): SourceEvent => {
          if (!rep) return { kind: 'verify-unanswered' };
          if (rep.code !== 'OK') return { kind: 'verify-refused', code: rep.code, message: rep.message };
          return { kind: 'verify-acked', ...MOVE_COMMANDS['move-verify'].decodeReply(rep.body) };
        }));
        return;
      case 'check-lease': {
        const checked = (targetHeld: boolean | null): SourceEvent => ({ kind: 'lease-checked', held: this.cluster.leaseValid(), targetHeld, entry: a.map.get(fork), mapVersion: a.map.version });
        if (!this.cluster.leaseValid()) return this.step(run, checked(false));
        later(this.request(run.to, 'members', CLUSTER_COMMANDS.members.encodeRequest({}), TARGET_LEASE_ASK_MS).then((rep) => checked(rep?.code === 'OK' ? CLUSTER_COMMANDS.members.decodeReply(rep.body).lease : null)));
        return;
      }
      case 'set-timer':
        setTimeout(() => this.step(run, { kind: 'timer-fired' }), action.ms).unref();
        return;
      case 'write-intent':
        this.intents.add(action.intent);
        return;
      case 'clear-intent':
        this.intents.remove(fork);
        return;
      case 'send-cutover':
        later(this.request(run.to, 'move-cutover', MOVE_COMMANDS['move-cutover'].encodeRequest(action.cutOver), action.timeoutMs).then((rep): SourceEvent =>
          !rep ? { kind: 'cutover-unanswered' } : rep.code === 'OK' ? { kind: 'cutover-acked' } : { kind: 'cutover-refused', code: rep.code, message: rep.message }));
        return;
      case 'adopt':
        a.applyMap(a.map.withEntry(action.entry));
        return;
      case 'broadcast':
        void pushEntries(this.link, this.cluster, action.entries);
        return;
      case 'stop-watching':
        run.unwatch?.();
        run.unwatch = null;
        void run.snapshot?.return(undefined);
        return;
      case 'drop-fork':
        later(a.dropFork(fork).then((): SourceEvent => ({ kind: 'fork-dropped' })));
        return;
      case 'send-abort':
        later(this.request(run.to, 'move-abort', MOVE_COMMANDS['move-abort'].encodeRequest(action.abort), action.timeoutMs).then((rep): SourceEvent =>
          rep?.code === 'OK' ? { kind: 'abort-acked' } : { kind: 'abort-unanswered' }));
        return;
      case 'ask-target-entry':
        later(this.request(run.to, 'members', CLUSTER_COMMANDS.members.encodeRequest({}), action.timeoutMs).then((rep): SourceEvent => {
          if (rep?.code !== 'OK') return { kind: 'target-entry-unanswered' };
          const theirs = CLUSTER_COMMANDS.members.decodeReply(rep.body).forks.find((f) => f.fork === fork);
          return { kind: 'target-entry', theirs, mine: a.map.get(fork) };
        }));
        return;
      case 'succeed':
        run.operator?.resolve({ fork, from: a.id, to: run.to, epoch: action.epoch, keys: action.keys, rounds: action.rounds, ms: Math.round(performance.now() - run.startedAt) });
        run.operator = null;
        return;
      case 'fail':
        run.operator?.reject(new StoreError(action.code, action.message, action.retryable));
        run.operator = null;
        return;
      case 'finished':
        run.unwatch?.();
        if (this.runs.get(fork) === run) this.runs.delete(fork);
        return;
    }
  }

  /** One request to a member by id; null when it cannot be reached or does not answer in time. */
  private request(id: string, cmd: string, body: Buffer, timeoutMs: number): Promise<Reply | null> {
    const endpoint = this.cluster.endpointOf(id);
    return endpoint ? this.link.tryRequest(endpoint, cmd, body, timeoutMs) : Promise.resolve(null);
  }
}
