// What a command is to the actor: a handler from request body to reply, and what the handler may
// use of its actor (`ActorServices`, which StoreActor implements). Handlers depend on this module,
// never on the actor class, so built-in and cluster commands plug in alike.
import type { Request } from '../../schemas/envelope.js';
import type { ForkMap } from '../map/fork_map.js';
import type { ActorLoad } from './actor_load.js';
import type { ChangeLog } from './change_log.js';
import type { ForkDb } from './fork_db.js';
import type { ForkRates } from './fork_rates.js';
import type { GroupCommit } from './group_commit.js';
import type { IncrQueue } from './incr_queue.js';
import type { Ownership } from './ownership.js';

/**
 * What a handler returns when it answers later through `actor.replyDeferred` (the increment queue
 * does, after it applied the batch). One shared instance: returning it allocates nothing.
 */
export class DeferredReply {
  static readonly instance: DeferredReply = Object.freeze(new DeferredReply());
  private constructor() {}
}
export const DEFERRED = DeferredReply.instance;

/**
 * A handler's outcome: the encoded reply body, a promise of it, or DEFERRED. It throws StoreError
 * for an error reply (a body that does not decode throws BadBody: BAD_REQUEST).
 */
export type HandlerResult = Buffer | Promise<Buffer> | DeferredReply;

export interface RequestContext {
  actor: ActorServices;
  req: Request;
  /** The ROUTER identity of the sender. */
  peer: Buffer;
}

export type CommandHandler = (body: Buffer, ctx: RequestContext) => HandlerResult;

export interface CommandSpec {
  handler: CommandHandler;
  /**
   * A write: run inside the group transaction under a savepoint (synchronous handlers), its reply
   * held until the commit.
   */
  write: boolean;
  /** A read of stored rows: served only while the read gate allows (checked once per request). */
  read?: boolean;
  /** Runs its own savepoint (the built-in batch, so it can queue increments or flush the queue first). */
  selfAtomic?: boolean;
  /**
   * Cluster control (gossip, the map, membership): reads no rows and writes none, so it is answered at once, not
   * held for the group's commit and its replicas. Held, a member whose writes waited for a dead replica answered no
   * gossip, lost the lease its peers needed, and the drop of that replica, which needs a lease and a quorum's maps,
   * never came: with two members left of three, each waited for the other (fault seed 7 at R = 2).
   */
  control?: boolean;
}

/** The actor as its command handlers see it. */
export interface ActorServices {
  readonly id: string;
  readonly endpoint: string;
  /** Date.now() at construction (for `stats` uptime). */
  readonly startedAt: number;
  /** The current fork map (replaced, never mutated, on every change). */
  readonly map: ForkMap;
  /** Endpoint of every member known, by actor id (this actor's own included). */
  readonly members: ReadonlyMap<string, string>;
  readonly maxValueBytes: number;
  /** Replies dropped since start because their peer did not read them. */
  readonly droppedReplies: number;
  /** Requests, replies, bytes and errors since start (the `metrics` command). */
  readonly load: ActorLoad;
  /** Replies waiting to be sent plus increment batches waiting to be applied. */
  readonly queueDepth: number;
  readonly db: ForkDb;
  readonly ownership: Ownership;
  readonly group: GroupCommit;
  readonly changeLog: ChangeLog;
  readonly incrQueue: IncrQueue;
  readonly rates: ForkRates;
  applyMap(map: ForkMap, members?: Iterable<[string, string]>): boolean;
  /** Answer a request whose handler returned DEFERRED; held until the commit, like any write. */
  replyDeferred(ctx: RequestContext, err: unknown, body: Buffer): void;
  /** Flush pending writes and replies, close the socket and the database. */
  stop(): Promise<void>;
  /** Called once a `stop` command has finished stopping (the process entry exits). */
  readonly onStopped?: () => void;
}
