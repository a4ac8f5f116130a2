// When a replica may act on "the owner is dead" (issue 10), as pure logic on an injected clock, so
// the rules are unit-tested step by step (test/store_replication_failover_guard.test.ts).
//
// A member's own SWIM view is not enough. A member that was stopped (SIGSTOP, a starved process)
// resumes with its probes unanswered and its suspicions expired all at once: it holds its live
// owner dead although it was the one that did not run (the R = 2 fault run, seed 6: a replica
// frozen 1.3 s promoted itself while its owner lived, two owners at one epoch). So a promotion needs
//   - agreement: a quorum of members (this one included) hold the owner dead or forgotten, each by
//     its own clock and probes, as they answer after the request was sent; and
//   - no stall of its own: a gap in this member's timer far beyond its interval means its view is
//     stale; it then waits a full dead bound, time for its own probes (and the owner's refutation)
//     to run again, before any failover;
//   - the owner's lease over: the agreement has held, read after read, for a lease period. SWIM may
//     hold a member dead well before the dead bound (after its suspicion timeout), while the owner
//     still holds the lease the last acks gave it; a peer that holds it dead renews nothing (swim.ts),
//     so a lease period after a quorum first held it dead, its lease has run out. Without this, an
//     owner cut off 0.7 s changed a fork's replicas under its lease at the epoch its replica's
//     promotion took 17 ms earlier (fault seed 5 at R = 2, a rerun: two owners at epoch 42).
import type { MemberState } from '../../schemas/fork_map.js';
import { leaseMsFor } from '../cluster/lease.js';

/** A timer gap longer than this share of the dead bound (SWIM's suspicion timeout) is a stall. */
const STALL_SHARE = 0.3;

export const gone = (state: MemberState | undefined): boolean => state === 'dead' || state === 'left';

export class FailoverGuard {
  readonly stallMs: number;
  private lastBeat: number;
  /** After a stall: no failover before this time. */
  private quietUntil = -Infinity;
  /** Owners a quorum holds gone in every read since this time. */
  private readonly agreedSince = new Map<string, number>();

  constructor(
    readonly deadAfterMs: number,
    now: number,
    stallMs = deadAfterMs * STALL_SHARE,
    readonly leaseMs = leaseMsFor(deadAfterMs),
  ) {
    this.stallMs = stallMs;
    this.lastBeat = now;
  }

  /** The member's periodic timer ran at `now`; returns the length of the stall it ended, 0 if none. */
  beat(now: number): number {
    const gap = now - this.lastBeat;
    this.lastBeat = now;
    if (gap <= this.stallMs) return 0;
    this.quietUntil = now + this.deadAfterMs;
    return gap;
  }

  /**
   * Whether this member is stalled or resumed from a stall less than a dead bound ago. The gap up to
   * `now` counts too: on resume, I/O (a peer's answer) may be handled before the timer runs again.
   */
  stalled(now: number): boolean {
    return now - this.lastBeat > this.stallMs || now < this.quietUntil;
  }

  /**
   * The owners a quorum holds gone: this member's own view (`own`) and each answering peer's view
   * (`peers`, member id -> state) count one vote each. Peers that did not answer count against.
   */
  agreedGone(owners: Iterable<string>, own: (id: string) => MemberState | undefined, peers: ReadonlyMap<string, MemberState>[], quorum: number): Set<string> {
    const out = new Set<string>();
    for (const owner of owners) {
      const votes = (gone(own(owner)) ? 1 : 0) + peers.filter((view) => gone(view.get(owner))).length;
      if (votes >= quorum) out.add(owner);
    }
    return out;
  }

  /**
   * Of the owners a quorum holds gone in this read (`agreed`, from agreedGone), those it has held gone in every
   * read for at least a lease period: their leases have run out. An owner missing from a read starts over.
   */
  agreedLongEnough(agreed: ReadonlySet<string>, now: number): Set<string> {
    for (const owner of [...this.agreedSince.keys()]) if (!agreed.has(owner)) this.agreedSince.delete(owner);
    const out = new Set<string>();
    for (const owner of agreed) {
      const since = this.agreedSince.get(owner) ?? now;
      this.agreedSince.set(owner, since);
      if (now - since >= this.leaseMs) out.add(owner);
    }
    return out;
  }
}
