// Group commit: the actor opens one transaction for every request that arrives in one event-loop
// turn, runs each write under a savepoint (a request applies fully or not at all), commits once,
// and only then releases the replies it held back and the changes watched forks get. So nothing
// uncommitted is ever acknowledged or read. With replicas, the replies also wait for the in-sync
// replicas to commit (`replyBarrier`).
//
// A group that does not commit fails as a whole: every request of it that would have been answered
// OK gets a retryable INTERNAL error instead, every `afterCommit()` promise rejects, and the watched
// changes are dropped. That covers a COMMIT that fails (disk full, I/O error) and a transaction
// SQLite rolled back by itself after a failed statement (SQLITE_FULL, SQLITE_IOERR and a few
// others undo the whole transaction, not just the statement): the group is then over at once,
// before any further request runs, so no later write lands outside it unseen.
import { StoreError } from '../protocol/errors.js';
import type { ChangeLog } from './change_log.js';
import type { ForkDb } from './fork_db.js';
import type { IncrQueue } from './incr_queue.js';
import { errorReply } from './replies.js';
import type { ReplySender } from './reply_sender.js';

/** After a message of this many requests, commit and reply at once rather than after draining the socket. */
const COMMIT_AFTER_REQUESTS = 64;
/** Default for commitEveryRows: commit early once this many written rows are pending. */
const COMMIT_EVERY_ROWS = 16384;
/** The actor's receive loop gives the event loop a turn at least this often (see commitIfDue). */
const MAX_MS_WITHOUT_TURN = 10;
const ROLLED_BACK = 'SQLite rolled the transaction back after a failed statement (disk full or I/O error?)';

interface HeldReply {
  peer: Buffer;
  id: number;
  reply: Buffer;
  /** An OK reply: turned into an error if the group fails (error replies stand as they are). */
  ok: boolean;
}

interface CommitWaiter {
  resolve: () => void;
  reject: (err: StoreError) => void;
}

export class GroupCommit {
  private held: HeldReply[] = [];
  private waiters: CommitWaiter[] = [];
  /** A group transaction is open (SQLite may have rolled it back meanwhile: see `begin`). */
  private open = false;
  private scheduled = false;
  private rows = 0;
  /** The last commit's replies wait on `replyBarrier`. */
  private waitsForReplicas = false;
  /** When the event loop last had a turn (a scheduled commit ran, or the receive loop was told to yield). */
  private turnAt = performance.now();
  private readonly commitAtTurnEnd = () => {
    this.turnAt = performance.now();
    this.commit();
  };
  /**
   * (replication, store/replication/) Asked after each commit, once its changes were published:
   * a promise that settles when every in-sync replica has them (null: it waits for nothing), with
   * null, or with the error the group's OK replies become (the fork went to another owner first:
   * what was not replicated is not acknowledged). Reads of the group wait too, so nothing is read
   * that a failover could lose.
   */
  replyBarrier: (() => Promise<StoreError | null> | null) | null = null;

  constructor(
    private readonly db: ForkDb,
    private readonly incrQueue: IncrQueue,
    private readonly changeLog: ChangeLog,
    private readonly sender: ReplySender,
    private readonly commitEveryRows = COMMIT_EVERY_ROWS,
  ) {}

  /** Open the group transaction if needed and schedule its commit at the end of this turn. */
  begin(): void {
    if (this.open && !this.db.inTransaction) this.end(new Error(ROLLED_BACK));
    if (!this.open) {
      this.db.begin();
      this.open = true;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.commitAtTurnEnd);
    }
  }

  /** Rows written in the open transaction beyond one per request (batches and imports add theirs). */
  addRows(n: number): void {
    this.rows += n;
  }

  /**
   * After a message of `requests` requests: commit now after a big bundle or once many rows are
   * pending, so the client works on these replies while the actor applies the next bundle.
   * True when the actor's loop should give the event loop a turn before its next message: after
   * such a commit whose replies wait for replicas (never at R = 1), and whenever no turn came for
   * MAX_MS_WITHOUT_TURN. While messages are queued, ZeroMQ resolves receives without a turn, so
   * nothing that waits for I/O or a timer would run until the socket drained: the replicas'
   * acknowledgements that release these replies, the stream's sends, and the member's own gossip
   * timers and peer sockets (suspected, not shown, behind owners that lost their lease under a
   * flood of client batches: fault seeds 25 and 27 at R = 2 in their preload).
   */
  commitIfDue(requests: number): boolean {
    const due = requests >= COMMIT_AFTER_REQUESTS || this.rows >= this.commitEveryRows;
    if (due) this.commit();
    const now = performance.now();
    if (!(due && this.waitsForReplicas) && now - this.turnAt < MAX_MS_WITHOUT_TURN) return false;
    this.turnAt = now;
    return true;
  }

  /** Run `fn` under a savepoint: on throw, undo its writes and the changes it noted, and rethrow. */
  atomic<Result>(fn: () => Result): Result {
    return this.changeLog.atomic(this.db, fn);
  }

  /** Send `reply` once the open group commits (at once when none is open). */
  hold(peer: Buffer, id: number, reply: Buffer, ok: boolean): void {
    if (this.open) this.held.push({ peer, id, reply, ok });
    else this.sender.push(peer, reply);
  }

  /** Resolves once the open group committed, rejects if it failed (resolves at once when none is open). */
  afterCommit(): Promise<void> {
    if (!this.open) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Commit the group transaction, then release every reply, waiter and change it held back. */
  commit(): void {
    this.scheduled = false;
    this.waitsForReplicas = false;
    if (!this.open) return;
    let failed: unknown = null;
    try {
      this.incrQueue.flush(); // its replies join `held` before the group ends
      if (!this.db.inTransaction) throw new Error(ROLLED_BACK);
      this.db.commit();
    } catch (err) {
      failed = err;
    }
    this.end(failed);
  }

  private end(failed: unknown): void {
    if (failed) this.db.rollback(); // when the COMMIT itself failed; a no-op if SQLite already rolled back
    this.open = false;
    const held = this.held;
    const waiters = this.waiters;
    this.held = [];
    this.waiters = [];
    this.rows = 0;
    const cause = failed instanceof Error ? failed.message : String(failed);
    const refusal = failed ? new StoreError('INTERNAL', `commit failed, nothing of this request was stored: ${cause}`, true) : null;
    // Watchers first: the replication stream numbers this group's changes, so the barrier below knows what to wait for.
    this.changeLog.publish(!refusal);
    const barrier = refusal ? null : (this.replyBarrier?.() ?? null);
    this.waitsForReplicas = barrier !== null;
    if (barrier) barrier.then((unreplicated) => this.release(held, unreplicated));
    else this.release(held, refusal);
    for (const w of waiters) {
      if (refusal) w.reject(refusal);
      else w.resolve();
    }
  }

  /** Send a group's replies, its OK ones turned into `refusal` when there is one. */
  private release(held: HeldReply[], refusal: StoreError | null): void {
    // A group's replies leave now, between incoming messages, so clients get acks while a long
    // burst is still being applied. The send loop is woken before they are queued (it goes on
    // after this code, a promise's continuation), so that push() finds it awake and schedules no
    // wake-up after the turn of its own: an event-loop turn more per group, for nothing.
    if (held.length) this.sender.wakeNow();
    for (const h of held) this.sender.push(h.peer, refusal && h.ok ? errorReply(h.id, refusal) : h.reply);
  }
}
