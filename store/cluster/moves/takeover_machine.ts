// Forced takeovers (`move --force`, `dbslm store takeover`) as a pure state machine: this actor takes forks of dead
// (or forgotten) owners over with no data (their rows are unreachable; there is no replication). Safe against an old
// owner coming back: the new entries are adopted by a quorum first, and from then on any ack that could renew the old
// owner's majority lease carries the new map; after one more lease period it cannot hold a lease that predates the
// change, so it can neither write nor read the forks. They stay fenced here until then. If no quorum answers they
// stay fenced (the intents on disk keep them so across a restart) and running the same takeover again resumes.
//
// One run takes any number of forks together: one map change, one quorum round and one lease wait for all of them,
// so taking over every fork of a dead member costs about one lease period rather than one per fork. Each fork is
// judged on its own at the start (a fork whose owner is alive is refused, the rest go on). takeover.ts runs it.
import type { ReplyCode } from '../../../schemas/envelope.js';
import type { ForkEntry, MemberState } from '../../../schemas/fork_map.js';

export interface TakeoverIntent {
  kind: 'takeover';
  fork: string;
  /** The owner taken over from (absent in intents written before it was recorded). */
  from?: string;
}

/** A fork to take over, as this actor sees it when the run starts. */
export interface TakeoverCandidate {
  fork: string;
  /** Undefined when the fork is not live here (split or merged, or no fork id at all). */
  entry: ForkEntry | undefined;
  /** Gossip's state of the entry's owner (undefined: a member never heard of). */
  ownerState: MemberState | undefined;
  /** The unfinished takeover intent of this fork on disk, if any (an earlier run did not finish). */
  pending: TakeoverIntent | undefined;
  /** Another move or takeover of this fork runs here now. */
  busy: boolean;
}

export type TakeoverFailure = 'not-live' | 'already-owner' | 'owner-not-dead' | 'busy' | 'no-quorum' | 'io-failed';

/** What became of one fork: taken at `epoch`, or why not. */
export interface TakeoverOutcome {
  fork: string;
  from: string;
  epoch: number;
  failure: { reason: TakeoverFailure; code: ReplyCode; message: string; retryable: boolean } | null;
}

export type TakeoverEvent =
  | { kind: 'start'; self: string; forks: TakeoverCandidate[] }
  | { kind: 'restart-with-intents'; self: string; intents: { intent: TakeoverIntent; entry: ForkEntry | undefined }[] }
  | { kind: 'forks-dropped'; mapVersion: number }
  | { kind: 'broadcast-acked'; adopted: number; quorum: number }
  | { kind: 'timer-fired' }
  | { kind: 'io-failed'; message: string };

export type TakeoverAction =
  | { kind: 'fence'; forks: string[] }
  | { kind: 'write-intents'; intents: TakeoverIntent[] }
  | { kind: 'drop-forks'; forks: string[] }
  | { kind: 'adopt'; entries: ForkEntry[] }
  | { kind: 'broadcast'; entries: ForkEntry[] }
  | { kind: 'set-timer'; ms: number }
  | { kind: 'clear-intents'; forks: string[] }
  | { kind: 'unfence'; forks: string[] }
  | { kind: 'report'; outcomes: TakeoverOutcome[] }
  | { kind: 'finished' };

export type TakeoverPhase = 'idle' | 'dropping' | 'quorum' | 'lease' | 'done';

export class TakeoverMachine {
  phase: TakeoverPhase = 'idle';
  private self = '';
  /** Forks refused at the start, reported with the rest at the end. */
  private refused: TakeoverOutcome[] = [];
  /** Forks being taken over, with the owner they came from. */
  private taking = new Map<string, string>();
  /** Forks that still need dropping and a new entry (the others resume an entry adopted by an earlier run). */
  private fresh: string[] = [];
  private entries: ForkEntry[] = [];

  /** `leaseMs`: how long a lease lasts; `marginMs` is added for clock rates and message delays. */
  constructor(private readonly leaseMs: number, private readonly marginMs = 100) {}

  handle(event: TakeoverEvent): TakeoverAction[] {
    switch (event.kind) {
      case 'start':
        return this.start(event);
      case 'restart-with-intents': {
        this.phase = 'done';
        // Only an adopted entry needs the fence; an intent written before the adoption protects nothing.
        const adopted = event.intents.filter((i) => i.entry?.owner === event.self).map((i) => i.intent.fork);
        const stale = event.intents.filter((i) => i.entry?.owner !== event.self).map((i) => i.intent.fork);
        return [...(adopted.length ? [{ kind: 'fence', forks: adopted } as const] : []), ...(stale.length ? [{ kind: 'clear-intents', forks: stale } as const] : []), { kind: 'finished' }];
      }
      case 'forks-dropped': {
        if (this.phase !== 'dropping') return [];
        const fresh = this.fresh.map((fork) => ({ fork, owner: this.self, epoch: event.mapVersion + 1 }));
        this.entries.push(...fresh);
        this.phase = 'quorum';
        return [{ kind: 'adopt', entries: fresh }, { kind: 'broadcast', entries: this.entries }];
      }
      case 'broadcast-acked':
        if (this.phase !== 'quorum') return [];
        if (1 + event.adopted < event.quorum) {
          const epochs = [...new Set(this.entries.map((e) => e.epoch))].join(', ');
          return this.failAll('no-quorum', `only ${1 + event.adopted} of the ${event.quorum} members needed adopted the new entries (epoch ${epochs}); the forks stay fenced at ${this.self}; run the same takeover again once a quorum is up, or forget the dead members first if the live ones are too few for a quorum (\`dbslm store forget MEMBER --force\`)`);
        }
        this.phase = 'lease';
        return [{ kind: 'set-timer', ms: this.leaseMs + this.marginMs }];
      case 'timer-fired': {
        if (this.phase !== 'lease') return [];
        this.phase = 'done';
        const forks = this.entries.map((e) => e.fork);
        const taken = this.entries.map((e): TakeoverOutcome => ({ fork: e.fork, from: this.taking.get(e.fork)!, epoch: e.epoch, failure: null }));
        return [{ kind: 'clear-intents', forks }, { kind: 'unfence', forks }, { kind: 'report', outcomes: [...taken, ...this.refused] }, { kind: 'finished' }];
      }
      case 'io-failed':
        if (this.phase === 'idle' || this.phase === 'done') return [];
        // Fenced, with the intents on disk: a re-run resumes from whatever was adopted.
        return this.failAll('io-failed', `${event.message}; the forks stay fenced at ${this.self}; run the same takeover again`);
    }
  }

  private start(event: Extract<TakeoverEvent, { kind: 'start' }>): TakeoverAction[] {
    if (this.phase !== 'idle') return [];
    this.self = event.self;
    const resumed: ForkEntry[] = [];
    for (const c of event.forks) {
      if (!c.entry) {
        const message = `fork ${JSON.stringify(c.fork)} is not a live fork (ids are hex routing-byte prefixes such as 3f; see \`dbslm store status\`)`;
        this.refused.push({ fork: c.fork, from: '?', epoch: 0, failure: { reason: 'not-live', code: 'BAD_REQUEST', message, retryable: false } });
        continue;
      }
      const entry = c.entry;
      const from = entry.owner === event.self ? (c.pending?.from ?? '?') : entry.owner;
      const refuse = (reason: TakeoverFailure, code: ReplyCode, message: string, retryable: boolean) =>
        this.refused.push({ fork: c.fork, from, epoch: entry.epoch, failure: { reason, code, message, retryable } });
      const resume = entry.owner === event.self && c.pending !== undefined;
      if (c.busy) refuse('busy', 'FENCED', `fork ${c.fork} is already moving at ${event.self} (or its last cut-over is being resolved); retry when that ends`, true);
      else if (entry.owner === event.self && !resume) refuse('already-owner', 'BAD_REQUEST', `${event.self} already owns fork ${c.fork}`, false);
      else if (!resume && c.ownerState !== undefined && c.ownerState !== 'dead' && c.ownerState !== 'left') {
        refuse('owner-not-dead', 'BAD_REQUEST', `owner ${entry.owner} of fork ${c.fork} is ${c.ownerState}; a takeover is only for a dead owner, use a live move`, false);
      } else if (resume) {
        // The entry is ours already; what is left is the quorum and the lease period.
        this.taking.set(c.fork, from);
        resumed.push(entry);
      } else {
        this.taking.set(c.fork, from);
        this.fresh.push(c.fork);
      }
    }
    if (!this.taking.size) {
      this.phase = 'done';
      return [{ kind: 'report', outcomes: this.refused }, { kind: 'finished' }];
    }
    this.entries = resumed;
    const actions: TakeoverAction[] = [{ kind: 'fence', forks: [...this.taking.keys()] }];
    if (!this.fresh.length) {
      this.phase = 'quorum';
      return [...actions, { kind: 'broadcast', entries: this.entries }];
    }
    this.phase = 'dropping';
    const intents = this.fresh.map((fork): TakeoverIntent => ({ kind: 'takeover', fork, from: this.taking.get(fork)! }));
    return [...actions, { kind: 'write-intents', intents }, { kind: 'drop-forks', forks: this.fresh }];
  }

  /** Every fork of the run fails the same way (they stay fenced, their intents on disk). */
  private failAll(reason: TakeoverFailure, message: string): TakeoverAction[] {
    this.phase = 'done';
    const failed = [...this.taking].map(([fork, from]): TakeoverOutcome => ({
      fork,
      from,
      epoch: this.entries.find((e) => e.fork === fork)?.epoch ?? 0,
      failure: { reason, code: 'INTERNAL', message: `takeover of fork ${fork}: ${message}`, retryable: true },
    }));
    return [{ kind: 'report', outcomes: [...failed, ...this.refused] }, { kind: 'finished' }];
  }
}
