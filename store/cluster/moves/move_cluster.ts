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
