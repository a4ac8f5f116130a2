// A forced move (`move --force`) as a pure state machine: this actor takes a dead owner's fork over with no data
// (the dead owner's rows are unreachable; there is no replication). Safe against the old owner coming back: the new
// entry is adopted by a quorum first, and from then on any ack that could renew the old owner's majority lease
// carries the new map; after one more lease period it cannot hold a lease that predates the change, so it cannot
// write the fork. The fork stays fenced here until then. If no quorum answers it stays fenced (the intent on disk
// keeps it so across a restart) and running the same move again resumes. takeover.ts runs it for real.
import type { ReplyCode } from '../../../schemas/envelope.js';
import type { ForkEntry, MemberState } from '../../../schemas/fork_map.js';

export interface TakeoverIntent {
  kind: 'takeover';
  fork: string;
}

export type TakeoverFailure = 'already-owner' | 'owner-not-dead' | 'no-quorum' | 'io-failed';

export type TakeoverEvent =
  /** `pending`: a takeover intent of this fork is on disk (an earlier run did not finish). */
  | { kind: 'start'; fork: string; self: string; entry: ForkEntry; ownerState: MemberState | undefined; pending: boolean }
  | { kind: 'restart-with-intent'; self: string; intent: TakeoverIntent; entry: ForkEntry | undefined }
  | { kind: 'fork-dropped'; mapVersion: number }
  | { kind: 'broadcast-acked'; adopted: number; quorum: number }
  | { kind: 'timer-fired' }
  | { kind: 'io-failed'; message: string };

export type TakeoverAction =
  | { kind: 'fence' }
  | { kind: 'write-intent'; intent: TakeoverIntent }
  | { kind: 'drop-fork' }
  | { kind: 'adopt'; entry: ForkEntry }
  | { kind: 'broadcast'; entries: ForkEntry[] }
  | { kind: 'set-timer'; ms: number }
  | { kind: 'clear-intent' }
  | { kind: 'unfence' }
  | { kind: 'succeed'; from: string; epoch: number }
  | { kind: 'fail'; reason: TakeoverFailure; code: ReplyCode; message: string; retryable: boolean }
  | { kind: 'finished' };

export type TakeoverPhase = 'idle' | 'dropping' | 'quorum' | 'lease' | 'done';

export class TakeoverMachine {
  phase: TakeoverPhase = 'idle';
  private fork = '';
  private self = '';
  private from = '';
  private entry: ForkEntry | null = null;

  /** `leaseMs`: how long a lease lasts; `marginMs` is added for clock rates and message delays. */
  constructor(private readonly leaseMs: number, private readonly marginMs = 100) {}

  handle(event: TakeoverEvent): TakeoverAction[] {
    switch (event.kind) {
      case 'start':
        return this.start(event);
      case 'restart-with-intent':
        this.phase = 'done';
        // Only an adopted entry needs the fence; an intent written before the adoption protects nothing.
        if (event.entry?.owner === event.self) return [{ kind: 'fence' }, { kind: 'finished' }];
        return [{ kind: 'clear-intent' }, { kind: 'finished' }];
      case 'fork-dropped': {
        if (this.phase !== 'dropping') return [];
        this.entry = { fork: this.fork, owner: this.self, epoch: event.mapVersion + 1 };
        this.phase = 'quorum';
        return [{ kind: 'adopt', entry: this.entry }, { kind: 'broadcast', entries: [this.entry] }];
      }
      case 'broadcast-acked':
        if (this.phase !== 'quorum') return [];
        if (1 + event.adopted < event.quorum) {
          this.phase = 'done';
          return [
            this.failure('no-quorum', `takeover of fork ${this.fork}: only ${1 + event.adopted} of the ${event.quorum} members needed adopted epoch ${this.entry!.epoch}; the fork stays fenced here, run the same move again`),
            { kind: 'finished' },
          ];
        }
        this.phase = 'lease';
        return [{ kind: 'set-timer', ms: this.leaseMs + this.marginMs }];
      case 'timer-fired':
        if (this.phase !== 'lease') return [];
        this.phase = 'done';
        return [{ kind: 'clear-intent' }, { kind: 'unfence' }, { kind: 'succeed', from: this.from, epoch: this.entry!.epoch }, { kind: 'finished' }];
      case 'io-failed':
        if (this.phase === 'idle' || this.phase === 'done') return [];
        this.phase = 'done';
        // Fenced, with the intent on disk: a re-run resumes from whatever was adopted.
        return [this.failure('io-failed', `takeover of fork ${this.fork} failed: ${event.message}; the fork stays fenced here, run the same move again`), { kind: 'finished' }];
    }
  }

  private start(event: Extract<TakeoverEvent, { kind: 'start' }>): TakeoverAction[] {
    if (this.phase !== 'idle') return [];
    this.fork = event.fork;
    this.self = event.self;
    const resume = event.entry.owner === event.self && event.pending;
    if (event.entry.owner === event.self && !resume) {
      this.phase = 'done';
      return [{ kind: 'fail', reason: 'already-owner', code: 'BAD_REQUEST', message: `${event.self} already owns fork ${event.fork}`, retryable: false }, { kind: 'finished' }];
    }
    if (!resume && event.ownerState !== undefined && event.ownerState !== 'dead') {
      this.phase = 'done';
      return [
        {
          kind: 'fail',
          reason: 'owner-not-dead',
          code: 'BAD_REQUEST',
          message: `owner ${event.entry.owner} of fork ${event.fork} is ${event.ownerState}; --force is only for a dead owner, use a live move`,
          retryable: false,
        },
        { kind: 'finished' },
      ];
    }
    if (resume) {
      // The entry is ours already; what is left is the quorum and the lease period.
      this.from = '?';
      this.entry = event.entry;
      this.phase = 'quorum';
      return [{ kind: 'fence' }, { kind: 'broadcast', entries: [event.entry] }];
    }
    this.from = event.entry.owner;
    this.phase = 'dropping';
    return [{ kind: 'fence' }, { kind: 'write-intent', intent: { kind: 'takeover', fork: event.fork } }, { kind: 'drop-fork' }];
  }

  private failure(reason: TakeoverFailure, message: string): TakeoverAction {
    return { kind: 'fail', reason, code: 'INTERNAL', message, retryable: true };
  }
}
