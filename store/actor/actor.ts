// The store actor: one OS process owning some forks, serving the request/reply protocol of
// schemas/store.ts on a ZeroMQ ROUTER socket. This module is the socket and the dispatch; the
// rest is delegated: group_commit.ts (the transaction, held replies, commit waiters),
// ownership.ts (routing, fencing, MOVED), fork_transfer.ts (export/import/drop for moves),
// fork_rates.ts (ops and ops/s), commands/ (the built-in handlers).
//
// Hooks for the cluster layer (gossip, fork moves, rebalance), stable API:
// - `registerCommand(name, handler, { write })`: add a command (command.ts). `handler(body, ctx)`
//   returns the encoded reply body (or a promise of it) and throws `StoreError` for error replies.
//   Sync write handlers run inside the group transaction, atomically (savepoint), and their reply is
//   sent only after the commit.
// - `map` / `applyMap(map, members)`: the current fork map; applyMap merges a newer view (newest
//   epoch wins per fork), persists it and calls `onMapChange` listeners. `members` maps actor id
//   to endpoint (used in redirects and by clients).
// - `fence(fork)` / `unfence(fork)` / `isFenced(fork)`: while fenced, writes to the fork get a
//   retryable FENCED reply. `owns(fork)`: this actor owns it in its current map.
// - `writeGate(fork)`: optional, consulted before every write; a StoreError it returns is the reply.
//   `readGate()`: the same for reads (get, scan, reduce, summary), consulted once per request.
// - `watchFork(fork, watcher, totals)` / `isWatched(fork)`: after every commit, the watcher gets
//   that fork's committed changes (final values, or deltas if `totals` is false: change_log.ts;
//   deletions as kind 0; dedup records) as a ForkChunk. Watch before `exportFork` (a move's tail).
// - `exportFork(fork, rows, onRead)`: async iterator of ForkChunks (snapshot in key order, dedup
//   records in the first chunk); writes continue between chunks (`onRead` marks where each was read).
// - `importChunk(chunk)`: apply a chunk (snapshot or tail), resolved once committed.
// - `dropFork(fork)`: delete a fork's rows and dedup records (after it moved away).
// - `afterCommit()`: resolves after the next commit (or at once when nothing is pending).
//   These three reject when their group fails to commit: nothing of it was stored.
// - `commit()`: commit the open group now; `db.iterate(prefix)`: read rows in key order.
import path from 'node:path';
import zmq from 'zeromq';
import { RequestType, type Request } from '../../schemas/envelope.js';
import type { ForkChunk } from '../../schemas/fork_chunk.js';
import { ForkMap } from '../map/fork_map.js';
import { checkActorId } from '../protocol/actor_id.js';
import { checkBindAllowed } from '../protocol/endpoint.js';
import { reportRefusedHandshakes } from '../protocol/security_mismatch.js';
import { StoreError } from '../protocol/errors.js';
import { MAX_KEY_BYTES } from '../protocol/keys.js';
import { MAX_VALUE_BYTES } from '../protocol/values.js';
import { ActorLoad } from './actor_load.js';
import { ChangeLog, type Watcher } from './change_log.js';
import { DeferredReply, type ActorServices, type CommandHandler, type CommandSpec, type HandlerResult, type RequestContext } from './command.js';
import { builtinCommands } from './commands/index.js';
import { withFile } from './file_errors.js';
import { ForkDb, type Durability } from './fork_db.js';
import { ForkRates } from './fork_rates.js';
import { ForkTransfer } from './fork_transfer.js';
import { GroupCommit } from './group_commit.js';
import { IncrQueue } from './incr_queue.js';
import { Ownership, type ReadGate, type WriteGate } from './ownership.js';
import { errorReply, okReply } from './replies.js';
import { REPLY_ROUTER_OPTIONS, ReplySender } from './reply_sender.js';

export { StoreError };

export interface ActorOptions {
  id: string;
  bind: string;
  dataDir: string;
  durability: Durability;
  insecure?: boolean;
  /** CURVE server keys (z85). With them the actor may bind a non-loopback address. */
  curve?: { publicKey: string; secretKey: string };
  maxKeyBytes?: number;
  maxValueBytes?: number;
  /** Map to start from when the data dir has none (default: this actor owns all 256 forks). */
  initialMap?: ForkMap;
  /**
   * Commit early once this many written rows are pending (default 16384), so replies flow back
   * while a long burst of requests is still being applied instead of all at its end.
   */
  commitEveryOps?: number;
  /** (cluster) Started with --join: until it learns the map, own nothing (owner '' at epoch 0) rather than claim all forks. */
  joining?: boolean;
}

export class StoreActor implements ActorServices {
  readonly db: ForkDb;
  /** All-increment batches of the open transaction, applied in key order before anything else reads or commits. */
  readonly incrQueue: IncrQueue;
  readonly changeLog = new ChangeLog();
  readonly rates = new ForkRates();
  /** Requests, replies, bytes and errors since start, for the `metrics` command. */
  readonly load = new ActorLoad();
  readonly ownership: Ownership;
  readonly group: GroupCommit;
  // Replies: a bounded queue per peer, a full one drops (reply_sender.ts). Requests: ZeroMQ stops
  // reading a peer that has this many messages waiting, so a fast sender is held back by TCP.
  readonly router = new zmq.Router({ maxMessageSize: 64 * 1024 * 1024 + 1024 * 1024, receiveHighWaterMark: 1000, ...REPLY_ROUTER_OPTIONS });
  readonly maxValueBytes: number;
  readonly startedAt = Date.now();
  endpoint = '';
  map: ForkMap;
  readonly members = new Map<string, string>();
  /** Called once a `stop` command has finished stopping (the process entry exits). */
  onStopped?: () => void;
  private readonly commands: Map<string, CommandSpec>;
  private readonly transfer: ForkTransfer;
  private readonly sender = new ReplySender(this.router, (line) => process.stderr.write(`store actor ${this.opts.id}: ${line}\n`), this.load);
  private readonly mapListeners = new Set<(map: ForkMap) => void>();
  private stopping = false;
  private done: Promise<void> | null = null;

  constructor(readonly opts: ActorOptions) {
    checkBindAllowed(opts.bind, { insecure: !!opts.insecure, curve: !!opts.curve });
    checkActorId(opts.id);
    this.maxValueBytes = opts.maxValueBytes ?? MAX_VALUE_BYTES;
    this.db = new ForkDb(opts.dataDir, opts.durability);
    this.incrQueue = new IncrQueue(this.db, this.changeLog);
    this.map = withFile(this.mapFile, 'read the fork map', () => ForkMap.load(this.mapFile)) ?? opts.initialMap ?? (opts.joining ? ForkMap.initial('', 0) : ForkMap.initial(opts.id));
    this.ownership = new Ownership(this, opts.maxKeyBytes ?? MAX_KEY_BYTES, this.rates);
    this.group = new GroupCommit(this.db, this.incrQueue, this.changeLog, this.sender, opts.commitEveryOps);
    this.transfer = new ForkTransfer(this.db, this.incrQueue, this.group, this.changeLog, () => this.map);
    this.commands = builtinCommands();
  }

  get id(): string {
    return this.opts.id;
  }
  get mapFile(): string {
    return path.join(this.opts.dataDir, 'forkmap.avro');
  }
  get maxKeyBytes(): number {
    return this.ownership.maxKeyBytes;
  }
  /** Replies dropped since start because their peer did not read them (reply_sender.ts). */
  get droppedReplies(): number {
    return this.sender.drops.total;
  }
  /** Replies waiting to be sent plus increment batches waiting to be applied. */
  get queueDepth(): number {
    return this.sender.queued + this.incrQueue.size;
  }

  /** Bind the ROUTER and start serving; resolves with the bound endpoint. */
  async start(): Promise<string> {
    if (this.opts.curve) {
      this.router.curveServer = true;
      this.router.curveSecretKey = this.opts.curve.secretKey;
      this.router.curvePublicKey = this.opts.curve.publicKey;
    }
    reportRefusedHandshakes(this.router, !!this.opts.curve, (line) => process.stderr.write(`store actor ${this.opts.id}: ${line}\n`));
    this.router.linger = 0;
    await this.router.bind(this.opts.bind);
    this.endpoint = this.router.lastEndpoint ?? this.opts.bind;
    this.members.set(this.id, this.endpoint);
    withFile(this.mapFile, 'write the fork map', () => this.map.persist(this.mapFile));
    this.rates.start();
    this.done = Promise.all([this.receiveLoop(), this.sender.run()]).then(() => undefined);
    return this.endpoint;
  }

  registerCommand(name: string, handler: CommandHandler, opts: { write?: boolean; control?: boolean } = {}): void {
    this.commands.set(name, { handler, write: !!opts.write, control: !!opts.control });
  }

  onMapChange(listener: (map: ForkMap) => void): () => void {
    this.mapListeners.add(listener);
    return () => this.mapListeners.delete(listener);
  }

  /** Merge `map` into ours (newest epoch per fork wins); true if ours changed. */
  applyMap(map: ForkMap, members?: Iterable<[string, string]>): boolean {
    for (const [id, ep] of members ?? []) if (id !== this.id && ep) this.members.set(id, ep);
    const merged = ForkMap.mergeMaps(this.map, map);
    if (merged.equals(this.map)) return false;
    merged.persist(this.mapFile);
    this.map = merged;
    for (const listener of this.mapListeners) listener(merged);
    return true;
  }

  fence(fork: string): void {
    this.ownership.fence(fork);
  }
  unfence(fork: string): void {
    this.ownership.unfence(fork);
  }
  isFenced(fork: string): boolean {
    return this.ownership.isFenced(fork);
  }
  owns(fork: string): boolean {
    return this.ownership.owns(fork);
  }
  /** (cluster) Consulted before every write: a non-null error refuses it (store/cluster: the write lease). */
  get writeGate(): WriteGate | null {
    return this.ownership.writeGate;
  }
  set writeGate(gate: WriteGate | null) {
    this.ownership.writeGate = gate;
  }
  get readGate(): ReadGate | null {
    return this.ownership.readGate;
  }
  set readGate(gate: ReadGate | null) {
    this.ownership.readGate = gate;
  }

  watchFork(fork: string, watcher: Watcher, totals = true): () => void {
    // (Queued increments still to apply are noted too: the queue looks at the watches when it applies.)
    return this.changeLog.watch(fork, watcher, totals);
  }
  isWatched(fork: string): boolean {
    return this.changeLog.isWatched(fork);
  }

  exportFork(fork: string, rowsPerChunk?: number, onRead?: () => void): AsyncGenerator<ForkChunk> {
    return this.transfer.exportFork(fork, rowsPerChunk, onRead);
  }
  importChunk(chunk: ForkChunk, alongside?: () => void): Promise<void> {
    return this.transfer.importChunk(chunk, alongside);
  }
  dropFork(fork: string): Promise<number> {
    return this.transfer.dropFork(fork);
  }

  afterCommit(): Promise<void> {
    return this.group.afterCommit();
  }
  /** Commit the group transaction now, then release every reply and change it held back. */
  commit(): void {
    this.group.commit();
  }

  /** Answer a request whose handler returned DEFERRED (sent after the commit, like any write). */
  replyDeferred(ctx: RequestContext, err: unknown, body: Buffer): void {
    if (err) {
      this.load.failed();
      this.group.hold(ctx.peer, ctx.req.id, errorReply(ctx.req.id, err), false);
    } else this.group.hold(ctx.peer, ctx.req.id, okReply(ctx.req.id, body), true);
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (const frames of this.router) {
        // A turn for the replicas' acks after an early commit, and for timers and I/O at least every 10 ms (see commitIfDue).
        if (this.group.commitIfDue(this.onMessage(frames))) await new Promise((resolve) => setImmediate(resolve));
        if (this.stopping) break;
      }
    } catch (err) {
      if (!this.stopping) throw err;
    }
  }

  /**
   * A message is [peer, frame, frame, ...]; each frame holds one or more Avro Requests back to
   * back: clients bundle pipelined requests to amortise the per-message and per-frame costs. A peer
   * that bundles gets its replies bundled the same way (one frame of concatenated Replies).
   * Returns the number of requests.
   */
  private onMessage(frames: Buffer[]): number {
    const peer = frames[0]!;
    let count = 0;
    for (let i = 1; i < frames.length; i++) {
      const f = frames[i]!;
      this.load.frame(f.length);
      let pos = 0;
      do {
        let r: { value: unknown; offset: number };
        try {
          // Bounded as it is: the envelope has no arrays or maps, and avsc checks a string or
          // bytes length against the frame before it copies anything.
          r = RequestType.decode(f, pos);
          if (r.offset < 0) throw new Error('truncated');
        } catch (err) {
          this.load.failed();
          this.sender.push(peer, errorReply(0, new StoreError('BAD_REQUEST', `frame of ${f.length} bytes is not an Avro Request (schemas/store.ts) at byte ${pos}: ${(err as Error).message}`)));
          break;
        }
        pos = r.offset;
        if (++count === 2) this.sender.markBundling(peer);
        this.load.request();
        this.dispatch(r.value as Request, peer);
      } while (pos < f.length);
    }
    return count;
  }

  private dispatch(req: Request, peer: Buffer): void {
    const spec = this.commands.get(req.cmd);
    if (!spec) {
      this.load.failed();
      this.group.hold(peer, req.id, errorReply(req.id, new StoreError('UNKNOWN_COMMAND', `unknown command ${JSON.stringify(req.cmd.length > 64 ? `${req.cmd.slice(0, 64)}...` : req.cmd)}; known: ${[...this.commands.keys()].sort().join(', ')}`)), false);
      return;
    }
    if (this.stopping) {
      this.load.failed();
      this.group.hold(peer, req.id, errorReply(req.id, new StoreError('STOPPING', `actor ${this.id} is stopping`, true)), false);
      return;
    }
    const ctx: RequestContext = { actor: this, req, peer };
    if (spec.control && !spec.write) return this.answerAtOnce(spec, ctx);
    // Reads join the group transaction too: inside one, a point read costs a fraction of an
    // autocommit read (no per-statement WAL snapshot), and their replies leave with the group.
    this.group.begin();
    // Queued increments apply before any other request, so it sees them (self-atomic handlers,
    // i.e. batch, flush themselves outside their savepoint, or queue onto them).
    if (!spec.selfAtomic) this.incrQueue.flush();
    let out: HandlerResult;
    try {
      if (spec.write) {
        out = spec.selfAtomic ? spec.handler(req.body, ctx) : this.group.atomic(() => spec.handler(req.body, ctx));
        this.group.addRows(1);
      } else {
        if (spec.read) this.ownership.checkRead();
        out = spec.handler(req.body, ctx);
      }
    } catch (err) {
      this.load.failed();
      this.group.hold(peer, req.id, errorReply(req.id, err), false);
      return;
    }
    if (out instanceof DeferredReply) return; // the increment queue answers through replyDeferred
    if (out instanceof Promise) {
      out.then(
        (body) => this.sender.push(peer, okReply(req.id, body)),
        (err) => {
          this.load.failed();
          this.sender.push(peer, errorReply(req.id, err));
        },
      );
    } else this.group.hold(peer, req.id, okReply(req.id, out), true);
  }

  /** A control command (`CommandSpec.control`): outside the group, its reply sent as soon as it is made. */
  private answerAtOnce(spec: CommandSpec, { peer, req }: RequestContext): void {
    const fail = (err: unknown) => void (this.load.failed(), this.sender.push(peer, errorReply(req.id, err)));
    try {
      const out = spec.handler(req.body, { actor: this, req, peer });
      if (out instanceof Promise) out.then((body) => this.sender.push(peer, okReply(req.id, body)), fail);
      else if (!(out instanceof DeferredReply)) this.sender.push(peer, okReply(req.id, out));
    } catch (err) {
      fail(err);
    }
  }

  /** Flush pending writes and replies, close the socket and the database. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.rates.stop();
    this.group.commit();
    const until = Date.now() + 2000;
    this.sender.stop();
    while (this.sender.queued && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    this.router.close();
    await this.done?.catch(() => undefined);
    this.db.close();
  }
}
