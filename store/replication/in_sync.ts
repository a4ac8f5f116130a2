// Which writes of one fork its owner may acknowledge, and which replicas are in sync: the owner's
// side of replication (issue 10) as a pure state machine. Events in (the owner committed up to a
// sequence number, a replica committed up to one, time passed, the fork map took a change), actions
// out (release writes up to a sequence, ask the map to drop or admit a replica). No sockets and no
// wall clock, so the rules are unit-tested on a fake clock (test/store_replication_in_sync.test.ts).
//
// The rules:
// - A write is acknowledged only after the owner and every replica of the published in-sync set
//   have committed it: `released` is the least of the owner's committed sequence and every such
//   replica's acknowledged one, and it never goes back.
// - A replica whose oldest unacknowledged write is older than `lagBoundMs` is asked to be dropped,
//   so one slow machine cannot stall writes. Until the fork map has taken the drop (`dropped`), the
//   replica still counts: the map's in-sync set is what a failover promotes from, so releasing a
//   write the replica lacks before the map says it is out could lose that write with the owner.
// - A replica out of sync that reports having committed everything the owner has (or all but
//   `admitWithin` sequences) starts to count (waiting for it too is only more careful); once it has
//   everything released by then it is asked to be admitted, and the map taking the admission makes
//   it eligible for promotion. A joining replica that lags past the bound stops counting again.
//
// Wired by store/replication/owner_stream.ts, which feeds it the owner's commits, the replicas'
// acknowledgements and the fork map's changes.

export type InSyncAction =
  | { kind: 'release'; upTo: number }
  | { kind: 'drop'; replica: string; lagMs: number }
  | { kind: 'admit'; replica: string };

type ReplicaState = 'in-sync' | 'dropping' | 'out' | 'joining';

interface Replica {
  state: ReplicaState;
  /** Highest sequence this replica committed, as it acknowledged. */
  acked: number;
  /** (joining) The released sequence when it began to count: once it has it, it is admitted. */
  joinAt?: number;
}

export interface InSyncOptions {
  /** How long a replica may leave a committed write unacknowledged before it is dropped. */
  lagBoundMs: number;
  /** The sequence already committed everywhere (a fork starting in sync): nothing below it waits. */
  startSeq?: number;
  /**
   * An out replica within this many sequences of the owner starts counting (releases wait for
   * it) and is admitted once it has what was released by then (default 0: only when level).
   */
  admitWithin?: number;
}

export class InSyncSet {
  private readonly replicas = new Map<string, Replica>();
  private readonly lagBoundMs: number;
  private readonly admitWithin: number;
  private committedSeq: number;
  private releasedSeq: number;
  /** (seq, time) of the owner's commits not yet acknowledged by every counted replica, oldest first. */
  private readonly commits: { seq: number; at: number }[] = [];

  constructor(replicas: readonly string[], opts: InSyncOptions) {
    this.lagBoundMs = opts.lagBoundMs;
    this.admitWithin = opts.admitWithin ?? 0;
    this.committedSeq = this.releasedSeq = opts.startSeq ?? 0;
    for (const id of replicas) this.replicas.set(id, { state: 'in-sync', acked: this.committedSeq });
  }

  /**
   * A replica placed on the map but not in its in-sync set (new, or returning): it counts for
   * nothing until it catches up and is admitted.
   */
  addOut(replica: string): void {
    // -1: it has nothing yet, so even a fork with no writes admits it on its first acknowledgement.
    if (!this.replicas.has(replica)) this.replicas.set(replica, { state: 'out', acked: -1 });
  }

  /** A replica that left the fork's replicas on the map: releases stop waiting for it. */
  remove(replica: string): InSyncAction[] {
    if (!this.replicas.delete(replica)) return [];
    return this.advance();
  }

  /** The highest sequence the owner committed. */
  get committedUpTo(): number {
    return this.committedSeq;
  }

  /** Writes up to this sequence may be acknowledged to their clients. */
  get released(): number {
    return this.releasedSeq;
  }

  /** The replicas a release waits for: in sync, or being dropped but not yet out of the map. */
  counted(): string[] {
    return [...this.replicas].filter(([, r]) => r.state !== 'out').map(([id]) => id);
  }

  /** The owner committed every write up to `seq` (sequences only grow). */
  committed(seq: number, now: number): InSyncAction[] {
    if (seq <= this.committedSeq) return [];
    this.committedSeq = seq;
    this.commits.push({ seq, at: now });
    return this.advance();
  }

  /** `replica` committed every write up to `seq`; late or repeated acknowledgements change nothing. */
  acked(replica: string, seq: number): InSyncAction[] {
    const r = this.replicas.get(replica);
    if (!r || seq <= r.acked) return [];
    r.acked = Math.min(seq, this.committedSeq);
    const actions: InSyncAction[] = [];
    if (r.state === 'out' && this.committedSeq - r.acked <= this.admitWithin) {
      // From now on releases wait for it, so once it has what was released by now it has every
      // released write and may enter the map's set (under steady writes it is rarely exactly level).
      r.state = 'joining';
      r.joinAt = this.releasedSeq;
    }
    if (r.state === 'joining' && r.acked >= r.joinAt!) {
      r.state = 'in-sync';
      actions.push({ kind: 'admit', replica });
    }
    return [...actions, ...this.advance()];
  }

  /** Time passed: ask to drop every counted replica whose oldest missing write is past the bound. */
  tick(now: number): InSyncAction[] {
    const actions: InSyncAction[] = [];
    let joinerOut = false;
    for (const [id, r] of this.replicas) {
      if (r.state !== 'in-sync' && r.state !== 'joining') continue;
      const oldest = this.commits.find((c) => c.seq > r.acked);
      if (oldest && now - oldest.at > this.lagBoundMs) {
        // A joining replica is not in the map's set: it simply stops counting.
        if (r.state === 'joining') {
          r.state = 'out';
          joinerOut = true;
          continue;
        }
        r.state = 'dropping';
        actions.push({ kind: 'drop', replica: id, lagMs: now - oldest.at });
      }
    }
    return joinerOut ? [...actions, ...this.advance()] : actions;
  }

  /**
   * The owner lets an in-sync replica go (placement.ts: one more than R - 1 are in sync, a replica
   * move's source or a returning member's stand-in): dropped as a lagging one is, and counted
   * until the map has taken the drop. Out, it may be admitted again if it stays on the map.
   */
  letGo(replica: string): InSyncAction[] {
    const r = this.replicas.get(replica);
    if (!r || r.state !== 'in-sync') return [];
    r.state = 'dropping';
    return [{ kind: 'drop', replica, lagMs: 0 }];
  }

  /** The fork map took the drop of `replica`: releases stop waiting for it. */
  dropped(replica: string): InSyncAction[] {
    const r = this.replicas.get(replica);
    if (!r || r.state !== 'dropping') return [];
    r.state = 'out';
    return this.advance();
  }

  /** How far behind the owner each replica is, in sequences, and whether it counts. */
  lag(): { replica: string; behind: number; state: ReplicaState }[] {
    return [...this.replicas].map(([replica, r]) => ({ replica, behind: this.committedSeq - r.acked, state: r.state }));
  }

  private advance(): InSyncAction[] {
    let upTo = this.committedSeq;
    for (const r of this.replicas.values()) if (r.state !== 'out') upTo = Math.min(upTo, r.acked);
    // Every counted replica has what is released: those commits can no longer make one lag.
    while (this.commits.length && this.commits[0]!.seq <= upTo) this.commits.shift();
    if (upTo <= this.releasedSeq) return [];
    this.releasedSeq = upTo;
    return [{ kind: 'release', upTo }];
  }
}
