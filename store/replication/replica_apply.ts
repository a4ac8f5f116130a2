// What a replica does with the owner's stream of changes for one fork (issue 10), as a pure state
// machine beside in_sync.ts: changes are applied in the owner's order, each once, by
// (epoch, sequence). Events in (a chunk of changes arrived, the fork map moved on), actions out
// (apply these sequences, acknowledge up to one, ask for the tail from one, refuse a stale owner,
// start over from a snapshot). No sockets, no database: the caller applies and persists.
//
// The rules:
// - Sequences are numbered per fork across owners: a promoted replica goes on from what it had
//   applied. A replica never applies anything of an epoch older than the newest it has seen, and
//   tells such a sender the newer epoch (an old owner that comes back learns it was replaced).
// - Within an epoch, what was applied already is acknowledged again and not applied twice; a gap
//   asks for the tail from the first missing sequence (a lost or reordered message).
// - A new epoch whose stream starts at or below what this replica applied may follow writes this
//   replica holds but the new owner never had (the old owner's unacknowledged ones): it cannot tell
//   them apart, so it starts over from the new owner's snapshot. A stream that starts right after
//   them continues as is.

export interface ChangeChunk {
  epoch: number;
  /** Sequence of the first change in the chunk; the chunk covers first .. first + count - 1. */
  first: number;
  count: number;
  /** Set on the first chunk of a new owner's stream: the last sequence that owner had applied when promoted. */
  base?: number;
}

export type ReplicaAction =
  | { kind: 'apply'; from: number; to: number }
  | { kind: 'ack'; upTo: number }
  | { kind: 'tail'; from: number }
  | { kind: 'refuse'; epoch: number }
  | { kind: 'resync'; epoch: number };

export class ReplicaApply {
  /** The newest epoch seen, from a chunk or from the fork map. */
  private epochSeen: number;
  /** The epoch whose stream this replica applies. */
  private following: number;
  private appliedSeq: number;
  /** While a snapshot is awaited nothing from the stream is applied. */
  private resyncing = false;

  constructor(epoch: number, applied: number) {
    this.epochSeen = this.following = epoch;
    this.appliedSeq = applied;
  }

  get applied(): number {
    return this.appliedSeq;
  }

  get epoch(): number {
    return this.epochSeen;
  }

  /** The epoch whose stream this replica applies (what a stored place keeps). */
  get term(): number {
    return this.following;
  }

  /** A chunk of the owner's changes arrived. */
  receive(chunk: ChangeChunk): ReplicaAction[] {
    if (chunk.epoch < this.epochSeen) return [{ kind: 'refuse', epoch: this.epochSeen }];
    if (chunk.epoch > this.following) {
      this.epochSeen = this.following = chunk.epoch;
      // The new owner had `base` applied; anything past it here may be writes it never had.
      if (chunk.base === undefined || chunk.base < this.appliedSeq) return this.startResync();
      this.resyncing = false;
    }
    if (this.resyncing) return [];
    const last = chunk.first + chunk.count - 1;
    if (last <= this.appliedSeq) return [{ kind: 'ack', upTo: this.appliedSeq }];
    if (chunk.first > this.appliedSeq + 1) return [{ kind: 'tail', from: this.appliedSeq + 1 }];
    const from = this.appliedSeq + 1;
    this.appliedSeq = last;
    return [
      { kind: 'apply', from, to: last },
      { kind: 'ack', upTo: last },
    ];
  }

  /** The snapshot asked for by `resync` was installed: it holds every change up to `upTo`. */
  snapshotInstalled(epoch: number, upTo: number): ReplicaAction[] {
    if (epoch !== this.following || !this.resyncing) return [];
    this.resyncing = false;
    this.appliedSeq = upTo;
    return [{ kind: 'ack', upTo }];
  }

  /** The fork map moved to a newer epoch (gossip): older senders are refused from now on. */
  epochObserved(epoch: number): void {
    if (epoch > this.epochSeen) this.epochSeen = epoch;
  }

  private startResync(): ReplicaAction[] {
    this.resyncing = true;
    return [{ kind: 'resync', epoch: this.epochSeen }];
  }
}
