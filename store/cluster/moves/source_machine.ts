// The source side of one live fork move as a pure state machine: events in (what the IO answered), actions out
// (what to do next). No sockets, timers, clock or randomness: the move id comes with `start`, waits are `set-timer`
// actions and every result comes back as an event, so tests can drive it step by step (source.ts runs it for real).
// The phases are those of store/README.md "Live fork moves":
//   snapshot -> catch-up rounds -> fencing -> last tail -> verifying -> lease -> cut-over -> dropping -> done
// A handover to an in-sync replica (issue 10), which holds the rows already, sends none and keeps them:
//   fencing -> replicas (every in-sync replica confirmed the last commit) -> verifying -> lease -> cut-over -> done
// and the source stays on as a replica of the fork, at the place in the stream where it fenced it.
// (verifying: the target's row count and digest of what it imported must equal the source's, or nothing is cut over)
// A cut-over whose outcome is unknown (unanswered, or the source restarted with the intent on disk) leads to
// `resolving`: the fork stays fenced until the target has told whether it took the fork.
import type { ReplyCode } from '../../../schemas/envelope.js';
import type { ForkChunk } from '../../../schemas/fork_chunk.js';
import type { ForkEntry } from '../../../schemas/fork_map.js';
import type { ForkDigest } from './digest.js';
import { handoverEntry, handoverOf } from './handover.js';
import { regroup, rowsIn } from './regroup.js';
import { SOURCE_TUNING, type CutOverIntent, type SourceAction, type SourceEvent, type SourceFailure, type SourcePhase, type SourceTuning } from './source_events.js';

export class SourceMachine {
  phase: SourcePhase = 'idle';
  moveId = '';
  fork = '';
  to = '';
  private self = '';
  /** Watched changes not forwarded yet, in commit order. */
  private tail: ForkChunk[] = [];
  /** Messages of the current step waiting to be sent, one at a time (each ack is the backpressure). */
  private outbox: ForkChunk[] = [];
  private inFlight: { seq: number; rows: number } | null = null;
  private nextSeq = 0;
  private snapshotDone = false;
  private catchUpRounds = 0;
  private roundRows = 0;
  private keys = 0;
  private leaseWaitedMs = 0;
  private digest: ForkDigest | null = null;
  private cutOverAttempts = 0;
  private intent: CutOverIntent | null = null;
  /** The operator's `move` still waits for its reply (not after a restart, nor once a failure was reported). */
  private operatorWaiting = false;
  private handover = false;
  /** (handover) Where the fork's stream stood when the replicas confirmed the last commit. */
  private place: { term: number; seq: number } | null = null;

  constructor(private readonly tuning: SourceTuning = SOURCE_TUNING) {}

  handle(event: SourceEvent): SourceAction[] {
    switch (event.kind) {
      case 'start':
        return this.start(event);
      case 'restart-with-intent':
        this.self = event.self;
        this.moveId = event.intent.moveId;
        this.fork = event.intent.fork;
        this.to = event.intent.to;
        this.intent = event.intent;
        this.handover = !!event.intent.handover;
        return this.resolve();
      case 'tail-observed':
        if (this.watching()) this.tail.push(event.chunk);
        return [];
      case 'snapshot-read':
        if (this.phase !== 'snapshot') return [];
        this.snapshotDone = event.chunk.done;
        this.outbox = regroup(this.fork, [event.chunk], this.limits());
        return this.pump();
      case 'chunk-acked':
        if (this.inFlight?.seq !== event.seq) return [];
        this.keys += this.inFlight.rows;
        this.inFlight = null;
        return this.pump();
      case 'chunk-refused':
        if (this.inFlight?.seq !== event.seq) return [];
        return this.giveUp('chunk-refused', event.code, `target ${this.to} refused a chunk of fork ${this.fork}: ${event.message}`, true);
      case 'chunk-unanswered':
        if (this.inFlight?.seq !== event.seq) return [];
        return this.giveUp('chunk-unanswered', 'INTERNAL', `target ${this.to} did not answer a chunk of fork ${this.fork} within ${this.tuning.chunkTimeoutMs} ms; the source keeps the fork`, true);
      case 'group-committed':
        if (this.phase !== 'fencing') return [];
        if (this.handover) {
          this.phase = 'replicas';
          return [{ kind: 'await-replicas', timeoutMs: this.tuning.replicaWaitMs }];
        }
        this.phase = 'last-tail';
        this.outbox = regroup(this.fork, this.tail.splice(0), this.limits());
        return this.pump();
      case 'replicas-caught-up':
        if (this.phase !== 'replicas') return [];
        if (!event.place) return this.giveUp('replicas-lagging', 'FENCED', `the in-sync replicas of fork ${this.fork} did not confirm its last writes within ${this.tuning.replicaWaitMs} ms; ${this.self} keeps the fork; retry`, true);
        this.place = event.place;
        this.phase = 'verifying';
        return [{ kind: 'compute-digest' }];
      case 'digest-computed':
        if (this.phase !== 'verifying' || this.digest) return [];
        this.digest = { rows: event.rows, digest: event.digest };
        return [{ kind: 'send-verify', verify: { moveId: this.moveId, fork: this.fork, ...this.digest, ...(this.handover ? { handover: true } : {}) }, timeoutMs: this.tuning.verifyTimeoutMs }];
      case 'verify-acked':
        if (this.phase !== 'verifying' || !this.digest) return [];
        if (event.rows !== this.digest.rows || event.digest !== this.digest.digest) {
          return this.giveUp('verify-mismatch', 'INTERNAL', `target ${this.to} holds ${event.rows} rows of fork ${this.fork} (digest ${event.digest.slice(0, 12)}), the source ${this.digest.rows} (${this.digest.digest.slice(0, 12)}); the source keeps the fork`, true);
        }
        this.phase = 'lease';
        return [{ kind: 'check-lease' }];
      case 'verify-refused':
        if (this.phase !== 'verifying') return [];
        return this.giveUp('verify-refused', event.code, `target ${this.to} does not hold what was sent of fork ${this.fork}: ${event.message}`, true);
      case 'verify-unanswered':
        if (this.phase !== 'verifying') return [];
        return this.giveUp('verify-unanswered', 'INTERNAL', `target ${this.to} did not confirm the rows of fork ${this.fork} within ${this.tuning.verifyTimeoutMs} ms; the source keeps the fork`, true);
      case 'lease-checked':
        return this.phase === 'lease' ? this.leaseChecked(event) : [];
      case 'timer-fired':
        if (this.phase === 'lease') return [{ kind: 'check-lease' }];
        if (this.phase === 'resolving') return [this.abortAction()];
        return [];
      case 'cutover-acked':
        return this.phase === 'cut-over' ? this.cutOverDone() : [];
      case 'cutover-refused':
        if (this.phase !== 'cut-over') return [];
        this.phase = 'done';
        return [
          { kind: 'clear-intent' },
          this.abortAction(),
          { kind: 'stop-watching' },
          { kind: 'unfence' },
          ...this.fail('cutover-refused', event.code, `target ${this.to} refused the cut-over of fork ${this.fork}: ${event.message}; the source keeps the fork`, true),
          { kind: 'finished' },
        ];
      case 'cutover-unanswered':
        if (this.phase !== 'cut-over') return [];
        if (this.cutOverAttempts < this.tuning.cutOverAttempts) {
          this.cutOverAttempts++;
          return [this.cutOverAction()];
        }
        return [
          { kind: 'stop-watching' },
          ...this.fail('cutover-unknown', 'INTERNAL', `cut-over of fork ${this.fork} to ${this.to} at epoch ${this.intent!.epoch} went unanswered; the fork stays fenced until ${this.to} tells the outcome`, true),
          ...this.resolve(),
        ];
      case 'abort-acked':
        return this.phase === 'resolving' ? [{ kind: 'ask-target-entry', timeoutMs: this.tuning.resolveTimeoutMs }] : [];
      case 'abort-unanswered':
      case 'target-entry-unanswered':
        return this.phase === 'resolving' ? [{ kind: 'set-timer', ms: this.tuning.resolveRetryMs }] : [];
      case 'target-entry':
        return this.phase === 'resolving' ? this.resolved(event.theirs, event.mine) : [];
      case 'fork-dropped':
        if (this.phase !== 'dropping') return [];
        this.phase = 'done';
        return [
          { kind: 'unfence' },
          ...(this.operatorWaiting ? [{ kind: 'succeed', epoch: this.intent!.epoch, keys: this.keys, rounds: this.catchUpRounds + 1 } as const] : []),
          { kind: 'finished' },
        ];
      case 'io-failed':
        return this.ioFailed(event.message);
    }
  }

  private start(event: Extract<SourceEvent, { kind: 'start' }>): SourceAction[] {
    if (this.phase !== 'idle') return [];
    this.self = event.self;
    this.moveId = event.moveId;
    this.fork = event.fork;
    this.to = event.to;
    this.operatorWaiting = true;
    if (event.to === event.self) {
      this.phase = 'done';
      return [...this.fail('target-is-self', 'BAD_REQUEST', `${event.to} already owns fork ${event.fork}`, false), { kind: 'stop-watching' }, { kind: 'finished' }];
    }
    // A suspect target may only be slow (a busy event loop misses probes); if it is gone, the first chunk times out.
    if (event.targetState !== 'alive' && event.targetState !== 'suspect') {
      this.phase = 'done';
      return [
        ...this.fail('target-not-alive', 'BAD_REQUEST', `target ${event.to} is ${event.targetState ?? 'unknown'}; moves need a live target`, true),
        { kind: 'stop-watching' },
        { kind: 'finished' },
      ];
    }
    this.handover = !!event.handover;
    if (this.handover) {
      // The target has every acknowledged write already; the fence stops new ones so it can confirm the rest.
      this.phase = 'fencing';
      return [{ kind: 'fence' }, { kind: 'await-group-commit' }];
    }
    // The caller watches the fork before this event, so every change committed after any snapshot read is in the tail.
    this.phase = 'snapshot';
    return [{ kind: 'read-snapshot' }];
  }

  private watching(): boolean {
    return this.phase === 'snapshot' || this.phase === 'catch-up' || this.phase === 'fencing' || this.phase === 'last-tail';
  }

  private limits() {
    return { rows: this.tuning.chunkRows, bytes: this.tuning.chunkBytes };
  }

  /** Sends the next waiting message, or moves on once the current step has been sent and acknowledged. */
  private pump(): SourceAction[] {
    if (this.inFlight) return [];
    const next = this.outbox.shift();
    if (next) {
      const seq = this.nextSeq++;
      this.inFlight = { seq, rows: next.entries.length };
      return [{ kind: 'send-chunk', seq, chunk: next, timeoutMs: this.tuning.chunkTimeoutMs }];
    }
    switch (this.phase) {
      case 'snapshot':
        return this.snapshotDone ? this.catchUpRound() : [{ kind: 'read-snapshot' }];
      case 'catch-up':
        if (this.roundRows < this.tuning.shortRoundRows || this.catchUpRounds >= this.tuning.maxCatchUpRounds) {
          this.phase = 'fencing';
          // Writes to the fork now get FENCED; the group commit in progress may still hold some, so wait for it.
          return [{ kind: 'fence' }, { kind: 'await-group-commit' }];
        }
        return this.catchUpRound();
      case 'last-tail':
        // Fenced and fully forwarded: the source's rows no longer change, so both sides can be compared.
        this.phase = 'verifying';
        return [{ kind: 'compute-digest' }];
      default:
        return [];
    }
  }

  /** Forwards what was written while the last step was sent. */
  private catchUpRound(): SourceAction[] {
    this.phase = 'catch-up';
    const batch = this.tail.splice(0);
    this.roundRows = rowsIn(batch);
    this.catchUpRounds++;
    this.outbox = regroup(this.fork, batch, this.limits());
    return this.pump();
  }

  private leaseChecked(event: Extract<SourceEvent, { kind: 'lease-checked' }>): SourceAction[] {
    if (event.entry?.owner !== this.self) {
      return this.giveUp('not-owner', 'MOVED', `fork ${this.fork} is no longer owned by ${this.self} (now ${event.entry?.owner ?? 'unknown'}); the move is void`, true);
    }
    // The target must hold its lease too: a target that joined a moment ago has not heard from a quorum yet, and
    // would answer FENCED for the fork it just took until it has.
    if (this.handover && !(event.entry.inSync ?? []).includes(this.to)) {
      return this.giveUp('target-not-in-sync', 'BAD_REQUEST', `${this.to} left the in-sync set of fork ${this.fork} during the handover; ${this.self} keeps the fork; retry once it is back in sync (see \`dbslm store status\`)`, true);
    }
    if (event.held && event.targetHeld) {
      // A source only creates epoch version + 1 of a fork it owns, with the intent on disk before anyone hears of it.
      this.intent = { kind: 'cut-over', moveId: this.moveId, fork: this.fork, to: this.to, epoch: event.mapVersion + 1 };
      // A handover's source stays on as a replica in the target's place, in sync: it holds every row the target holds.
      if (this.handover) this.intent.handover = handoverOf(event.entry, this.self, this.to, this.place!);
      this.phase = 'cut-over';
      this.cutOverAttempts = 1;
      return [{ kind: 'write-intent', intent: this.intent }, this.cutOverAction()];
    }
    if (event.targetHeld === null) {
      return this.giveUp('target-no-lease', 'INTERNAL', `target ${this.to} did not say whether it holds its lease; the source keeps fork ${this.fork}`, true);
    }
    if (this.leaseWaitedMs >= this.tuning.leaseWaitMs) {
      if (!event.held) return this.giveUp('lease-lost', 'FENCED', `actor ${this.self} holds no write lease, so it cannot hand fork ${this.fork} over; retry`, true);
      return this.giveUp('target-no-lease', 'FENCED', `target ${this.to} has held no lease for ${this.tuning.leaseWaitMs} ms (it has not heard from a quorum), so fork ${this.fork} would be FENCED there; the source keeps the fork; retry`, true);
    }
    this.leaseWaitedMs += this.tuning.leasePollMs;
    return [{ kind: 'set-timer', ms: this.tuning.leasePollMs }];
  }

  private cutOverAction(): SourceAction {
    const i = this.intent!;
    const handover = i.handover ? { handover: true, replicas: i.handover.replicas, inSync: i.handover.inSync } : {};
    return { kind: 'send-cutover', cutOver: { moveId: i.moveId, fork: i.fork, from: this.self, epoch: i.epoch, ...handover }, timeoutMs: this.tuning.cutOverTimeoutMs };
  }

  private cutOverDone(): SourceAction[] {
    const h = this.intent!.handover;
    if (h) {
      const entry = handoverEntry(this.intent!);
      this.phase = 'done';
      const succeed = this.operatorWaiting ? [{ kind: 'succeed', epoch: entry.epoch, keys: 0, rounds: 0 } as const] : [];
      return [{ kind: 'adopt', entry }, { kind: 'become-replica', term: h.term, seq: h.seq }, { kind: 'clear-intent' }, { kind: 'broadcast', entries: [entry] }, { kind: 'stop-watching' }, { kind: 'unfence' }, ...succeed, { kind: 'finished' }];
    }
    const entry: ForkEntry = { fork: this.fork, owner: this.to, epoch: this.intent!.epoch };
    this.phase = 'dropping';
    return [{ kind: 'adopt', entry }, { kind: 'clear-intent' }, { kind: 'broadcast', entries: [entry] }, { kind: 'stop-watching' }, { kind: 'drop-fork' }];
  }

  /** Asks the target for the outcome: abort first (so a late cut-over can no longer succeed), then its map entry. */
  private resolve(): SourceAction[] {
    this.phase = 'resolving';
    this.operatorWaiting = false;
    return [{ kind: 'fence' }, this.abortAction()];
  }

  private resolved(theirs: ForkEntry | undefined, mine: ForkEntry | undefined): SourceAction[] {
    const intent = this.intent!;
    if (!theirs || theirs.epoch < intent.epoch) {
      // The target did not take the fork and, after the abort, never will: the source keeps it.
      this.phase = 'done';
      return [{ kind: 'clear-intent' }, { kind: 'unfence' }, { kind: 'finished' }];
    }
    // The target took it (it may have moved on since): adopt, and drop the rows unless the fork came back meanwhile.
    const newest = mine && mine.epoch >= theirs.epoch ? mine : theirs;
    const actions: SourceAction[] = [{ kind: 'adopt', entry: theirs }, { kind: 'clear-intent' }];
    if (newest.owner === this.self) {
      this.phase = 'done';
      return [...actions, { kind: 'unfence' }, { kind: 'finished' }];
    }
    if (intent.handover) {
      // The source's rows are the replica's the target took over with: it keeps them, as a replica.
      this.phase = 'done';
      return [...actions, { kind: 'become-replica', term: intent.handover.term, seq: intent.handover.seq }, { kind: 'unfence' }, { kind: 'finished' }];
    }
    this.phase = 'dropping';
    return [...actions, { kind: 'drop-fork' }];
  }

  /** Before the intent is written nothing is decided: tell the target, and keep the fork. */
  private giveUp(reason: SourceFailure, code: ReplyCode, message: string, retryable: boolean): SourceAction[] {
    this.phase = 'done';
    return [this.abortAction(), { kind: 'stop-watching' }, { kind: 'unfence' }, ...this.fail(reason, code, message, retryable), { kind: 'finished' }];
  }

  private ioFailed(message: string): SourceAction[] {
    switch (this.phase) {
      case 'idle':
      case 'done':
        return [];
      case 'cut-over':
      case 'dropping':
      case 'resolving':
        // The intent may be on disk and the target may own the fork: only the target can tell, so ask it.
        if (this.phase === 'resolving') return [{ kind: 'set-timer', ms: this.tuning.resolveRetryMs }];
        return [{ kind: 'stop-watching' }, ...this.fail('io-failed', 'INTERNAL', `move of fork ${this.fork} to ${this.to} failed at the cut-over: ${message}; the fork stays fenced until ${this.to} tells the outcome`, true), ...this.resolve()];
      default:
        return this.giveUp('io-failed', 'INTERNAL', `move of fork ${this.fork} to ${this.to} failed: ${message}`, true);
    }
  }

  private abortAction(): SourceAction {
    return { kind: 'send-abort', abort: { moveId: this.moveId, fork: this.fork }, timeoutMs: this.tuning.resolveTimeoutMs };
  }

  /** The operator's failure reply, if it still waits for one. */
  private fail(reason: SourceFailure, code: ReplyCode, message: string, retryable: boolean): SourceAction[] {
    if (!this.operatorWaiting) return [];
    this.operatorWaiting = false;
    return [{ kind: 'fail', reason, code, message, retryable }];
  }
}
