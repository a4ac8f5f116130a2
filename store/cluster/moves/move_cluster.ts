// What moves need from the cluster layer, and no more: membership, the write lease and peer endpoints. cluster.ts
// implements it over gossip, so moves do not depend on where membership or the lease live.
import type { MemberState } from '../../../schemas/fork_map.js';

export interface MoveCluster {
  /** This actor may write now (a quorum acked it recently). */
  leaseValid(): boolean;
  /** How long a lease lasts after the ping it rests on. */
  readonly leaseMs: number;
  /** Members (this one included) that must hold an entry before a takeover may rely on it. */
  quorum(): number;
  memberState(id: string): MemberState | undefined;
  endpointOf(id: string): string | undefined;
  alivePeerEndpoints(): string[];
  memberIds(): string[];
}

/** What moves ask of the member's replication (issue 10; store/replication/, wired by the cluster layer). */
export interface MoveReplication {
  /** (A handover, handover.ts) The fork's stream place once every in-sync replica committed all of it, or null after `timeoutMs`. */
  caughtUp(fork: string, timeoutMs: number): Promise<{ term: number; seq: number } | null>;
  /** (A handover) This member holds the fork as a replica now, with every change up to `seq` of the stream of `term`. */
  becomeReplica(fork: string, term: number, seq: number): void;
  /** Move the replica of `fork` (owned here) on `from` to `to`: `to` is filled, in sync, and `from` let go; resolves with the entry's epoch then. */
  moveReplica(fork: string, from: string, to: string, timeoutMs: number): Promise<number>;
}
