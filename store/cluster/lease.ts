// The lease of one actor, as a pure state machine: SWIM (store/cluster/swim.ts) reports the pings it
// sends, the direct acks it gets and the member states it learns; the lease answers whether this actor may
// serve its forks now: writes, and reads too (a member that lost its lease may have lost forks it has not heard of). No sockets; time comes from the events and an injected clock, so the rules are unit-tested
// step by step (test/store_lease.test.ts).
//
// The rule: with n known members (this one and every peer not marked `left`, dead ones included), the actor
// holds the lease while floor(n/2) peers, a majority with its own vote, each acked a ping that was *sent*
// less than `durationMs` ago. Counting from the send time makes acks that queued up while the actor was
// frozen renew nothing. Counting dead members keeps a partitioned minority from writing.
import type { MemberState } from '../../schemas/fork_map.js';

export interface LeaseClock {
  now(): number;
}
const monotonic: LeaseClock = { now: () => performance.now() };

/** Half the dead bound: a member that stops hearing from a quorum stops writing well before the others can mark it dead and take its forks over. */
export function leaseMsFor(deadAfterMs: number): number {
  return deadAfterMs * 0.5;
}

export class WriteLease {
  private expecting = false;
  private revoked = false;
  /** When the lease lapses, computed once per change of the acks or members (null: recompute): every read asks. */
  private expiresAt: number | null = null;
  /** Known peers that count towards the quorum (not left), with the send time of their newest acked ping. */
  private readonly peers = new Map<string, number>();
  /** Pings that may still be acked in time to matter: seq -> the peer pinged and the send time, oldest first. */
  private readonly sent = new Map<number, { peer: string; at: number }>();

  constructor(
    readonly durationMs: number,
    private readonly clock: LeaseClock = monotonic,
  ) {}

  /**
   * Set when this member was started with seeds (or remembered peers): knowing no peer then means "not
   * joined yet", not "alone", so it holds no lease until a peer acks it.
   */
  get expectPeers(): boolean {
    return this.expecting;
  }
  set expectPeers(expect: boolean) {
    this.expecting = expect;
    this.expiresAt = null;
  }

  /**
   * A peer's state changed; a peer that left (was forgotten) no longer counts towards the quorum. Knowing a peer means
   * this member has joined: should every peer be forgotten later, it is alone by the operator's decision.
   */
  memberChanged(id: string, state: MemberState): void {
    if (state === 'left') this.peers.delete(id);
    else if (!this.peers.has(id)) this.peers.set(id, -Infinity);
    this.expecting = false;
    this.expiresAt = null;
  }

  /** The cluster forgot this member: it holds no lease again, whatever acks still reach it. */
  revoke(): void {
    this.revoked = true;
    this.expiresAt = null;
  }

  /** A ping (sequence number `seq`) went to `peer` at time `at`. */
  pingSent(peer: string, seq: number, at: number): void {
    // A ping sent a full lease ago can no longer renew anything: forget it.
    for (const [old, ping] of this.sent) {
      if (ping.at + this.durationMs > at) break;
      this.sent.delete(old);
    }
    this.sent.set(seq, { peer, at });
  }

  /** `peer` itself acked ping `seq`; the lease it grants counts from that ping's send time. */
  ackReceived(peer: string, seq: number): void {
    const ping = this.sent.get(seq);
    if (!ping || ping.peer !== peer) return;
    this.sent.delete(seq);
    const newest = this.peers.get(peer);
    if (newest !== undefined && ping.at > newest) {
      this.peers.set(peer, ping.at);
      this.expiresAt = null;
    }
  }

  /** Members that count towards the quorum, this one included. */
  memberCount(): number {
    return this.peers.size + 1;
  }

  /** Members (this one included) that make a majority of the known, non-left members. */
  quorum(): number {
    return Math.floor((this.peers.size + 1) / 2) + 1;
  }

  /** Whether this actor may serve at `now`: a quorum acked pings sent less than `durationMs` before it. */
  valid(now = this.clock.now()): boolean {
    this.expiresAt ??= this.expiry();
    return now < this.expiresAt;
  }

  /** The peers whose last counted ack is too old to back a lease at `now` (the ones a lapsed lease waits for). */
  missing(now = this.clock.now()): string[] {
    return [...this.peers].filter(([, at]) => at + this.durationMs <= now).map(([id]) => id).sort();
  }

  private expiry(): number {
    if (this.revoked) return -Infinity;
    const needed = this.quorum() - 1;
    if (needed === 0) return this.expecting ? -Infinity : Infinity;
    const newestFirst = [...this.peers.values()].sort((a, b) => b - a);
    return newestFirst[needed - 1]! + this.durationMs;
  }
}
