// Group commit: the actor opens one transaction for every request that arrives in one event-loop
// turn, runs each write under a savepoint (a request applies fully or not at all), commits once,
// and only then releases the replies it held back and the changes watched forks get. So nothing
// uncommitted is ever acknowledged or read.
import { StoreError } from '../protocol/errors.js';
import type { ChangeLog } from './change_log.js';
import type { ForkDb } from './fork_db.js';
import type { IncrQueue } from './incr_queue.js';
import { errorReply } from './replies.js';
import type { ReplySender } from './reply_sender.js';

/** After a message of this many requests, commit and reply at once rather than after draining the socket. */
const COMMIT_AFTER_REQUESTS = 64;
/** Default for commitEveryRows: commit early once this many written rows are pending. */
export const COMMIT_EVERY_ROWS = 16384;

interface HeldReply {
  peer: Buffer;
  id: number;
  reply: Buffer;
  /** The reply to a write: turned into an error if the commit fails. */
  write: boolean;
}

export class GroupCommit {
  private held: HeldReply[] = [];
  private waiters: (() => void)[] = [];
  private scheduled = false;
  private rows = 0;
  private readonly commitAtTurnEnd = () => this.commit();

  constructor(
    private readonly db: ForkDb,
    private readonly incrQueue: IncrQueue,
    private readonly changeLog: ChangeLog,
    private readonly sender: ReplySender,
    private readonly commitEveryRows = COMMIT_EVERY_ROWS,
  ) {}

  /** Open the group transaction if needed and schedule its commit at the end of this turn. */
  begin(): void {
    if (!this.db.inTransaction) this.db.begin();
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
   */
  commitIfDue(requests: number): void {
    if (requests >= COMMIT_AFTER_REQUESTS || this.rows >= this.commitEveryRows) this.commit();
  }

  /** Run `fn` under a savepoint: on throw, undo its writes and the changes it noted, and rethrow. */
  atomic<Result>(fn: () => Result): Result {
    const mark = this.changeLog.mark();
    try {
      return this.db.atomic(fn);
    } catch (err) {
      this.changeLog.rollback(mark);
      throw err;
    }
  }

  /** Send `reply` once the open transaction commits (at once when none is open). */
  hold(peer: Buffer, id: number, reply: Buffer, write: boolean): void {
    if (this.db.inTransaction) this.held.push({ peer, id, reply, write });
    else this.sender.push(peer, reply);
  }

  /** Resolves after the next commit (at once when no transaction is open). */
  afterCommit(): Promise<void> {
    if (!this.db.inTransaction) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Commit the group transaction, then release every reply, waiter and change it held back. */
  commit(): void {
    this.scheduled = false;
    if (!this.db.inTransaction) return;
    let failed: Error | null = null;
    try {
      this.incrQueue.flush(); // its replies join `held` before it is read below
      this.db.commit();
    } catch (err) {
      failed = err as Error;
      this.db.rollback();
    }
    const held = this.held;
    const waiters = this.waiters;
    this.held = [];
    this.waiters = [];
    this.rows = 0;
    for (const h of held) {
      if (failed && h.write) this.sender.push(h.peer, errorReply(h.id, new StoreError('INTERNAL', `commit failed, nothing of this request was stored: ${failed.message}`, true)));
      else this.sender.push(h.peer, h.reply);
    }
    this.changeLog.publish(!failed);
    for (const w of waiters) w();
    // A group's replies leave now, between incoming messages, so clients get acks while a long
    // burst is still being applied.
    this.sender.wakeNow();
  }
}
