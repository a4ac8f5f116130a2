// The store actor: one OS process owning some forks, serving the request/reply protocol of
// schemas/store.ts on a ZeroMQ ROUTER socket, persisting in its ForkDb with group commit.
//
// Hooks for the cluster layer (gossip, fork moves, rebalance), stable API:
// - `registerCommand(name, handler, { write })`: add a command. `handler(body, ctx)` returns the
//   encoded reply body (or a promise of it) and throws `StoreError` for error replies. Sync write
//   handlers run inside the group transaction, atomically (savepoint), and their reply is sent
//   only after the commit.
// - `map` / `applyMap(map, members)`: the current fork map; applyMap merges a newer view (newest
//   epoch wins per fork), persists it and calls `onMapChange` listeners. `members` maps actor id
//   to endpoint (used in redirects and by clients).
// - `fence(fork)` / `unfence(fork)`: while fenced, writes to the fork get a retryable FENCED reply.
// - `writeGate(fork)`: optional, consulted before every write; a StoreError it returns is the reply.
// - `watchFork(fork, cb)`: after every commit, cb gets that fork's committed changes (final
//   values, deletions as kind 0, and dedup records) as a ForkChunk. Start watching before
//   `exportFork` so the tail of a live move is not missed.
// - `exportFork(fork)`: async iterator of ForkChunks (snapshot in key order, dedup records in the
//   first chunk); writes continue between chunks.
// - `importChunk(chunk)`: apply a chunk (snapshot or tail), resolved once committed.
// - `dropFork(fork)`: delete a fork's rows and dedup records (after it moved away).
// - `afterCommit()`: resolves after the next commit (or at once when nothing is pending).
import zmq from 'zeromq';
import { RequestType, encodeReply, type Request } from '../../schemas/envelope.js';
import type { ForkChunk } from '../../schemas/fork_chunk.js';
import { ForkDb, type Durability } from './fork_db.js';
import { ForkMap, type ForkEntry } from '../map/fork_map.js';
import { MAX_KEY_BYTES, MAX_VALUE_BYTES, ROUTING_BYTES } from '../protocol/keys.js';
import { checkBindAllowed } from '../protocol/endpoint.js';
import { builtinCommands } from './commands/builtin.js';
import { storedToWire, wireToStored } from '../protocol/values.js';
import path from 'node:path';
import { StoreError, asStoreError } from '../protocol/errors.js';
import { DEFERRED_REPLY, IncrQueue } from './incr_queue.js';
import { ChangeLog, type Watcher } from './change_log.js';
import { ReplySender } from './reply_sender.js';

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


export interface RequestContext {
  actor: StoreActor;
  req: Request;
  peer: Buffer;
}
export type CommandHandler = (body: Buffer, ctx: RequestContext) => Buffer | Promise<Buffer>;
interface CommandSpec {
  handler: CommandHandler;
  write: boolean;
  /** Built-in batch only: runs its own savepoint (so it can queue increments or flush the queue first). */
  selfAtomic?: boolean;
}
type Pending = { peer: Buffer; id: number; buf: Buffer; write: boolean };

export class StoreActor {
  readonly db: ForkDb;
  /** All-increment batches of the open transaction, applied in key order before anything else reads or commits. */
  readonly incrQueue: IncrQueue;
  readonly router = new zmq.Router({ maxMessageSize: 64 * 1024 * 1024 + 1024 * 1024, sendHighWaterMark: 100000, receiveHighWaterMark: 100000 });
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
  readonly startedAt = Date.now();
  endpoint = '';
  map: ForkMap;
  readonly members = new Map<string, string>();
  readonly ops = new Map<string, number>();
  readonly opsPerSec = new Map<string, number>();
  private readonly commands = new Map<string, CommandSpec>();
  private readonly fenced = new Set<string>();
  /** (cluster) Consulted before every write: a non-null error refuses it (store/cluster.ts: the write lease). */
  writeGate: ((fork: string) => StoreError | null) | null = null;
  private readonly changeLog = new ChangeLog();
  private readonly sender = new ReplySender(this.router);
  private readonly mapListeners = new Set<(map: ForkMap) => void>();
  private pending: Pending[] = [];
  private commitWaiters: (() => void)[] = [];
  private commitScheduled = false;
  private opsInTxn = 0;
  /** Rows written in the open transaction beyond one per request (batch handlers add theirs). */
  addTxnOps(n: number): void {
    this.opsInTxn += n;
  }
  private stopping = false;
  private done: Promise<void> | null = null;
  private rateTimer: NodeJS.Timeout | null = null;
  private lastOps = new Map<string, number>();
  /** Called once a `stop` command has finished stopping (actor_main exits the process). */
  onStopped?: () => void;

  constructor(readonly opts: ActorOptions) {
    checkBindAllowed(opts.bind, { insecure: !!opts.insecure, curve: !!opts.curve });
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(opts.id)) throw new Error(`actor id ${JSON.stringify(opts.id)} must be 1-64 characters of A-Z a-z 0-9 _ . -`);
    this.maxKeyBytes = opts.maxKeyBytes ?? MAX_KEY_BYTES;
    this.maxValueBytes = opts.maxValueBytes ?? MAX_VALUE_BYTES;
    this.db = new ForkDb(opts.dataDir, opts.durability);
    this.incrQueue = new IncrQueue(this.db);
    this.map = ForkMap.load(this.mapFile) ?? opts.initialMap ?? (opts.joining ? ForkMap.initial('', 0) : ForkMap.initial(opts.id));
    for (const [name, spec] of Object.entries(builtinCommands)) this.commands.set(name, { handler: spec.handler, write: spec.write, selfAtomic: spec.selfAtomic });
  }

  get id(): string {
    return this.opts.id;
  }
  get mapFile(): string {
    return path.join(this.opts.dataDir, 'forkmap.avro');
  }

  /** Bind the ROUTER and start serving; resolves with the bound endpoint. */
  async start(): Promise<string> {
    if (this.opts.curve) {
      this.router.curveServer = true;
      this.router.curveSecretKey = this.opts.curve.secretKey;
      this.router.curvePublicKey = this.opts.curve.publicKey;
    }
    this.router.linger = 0;
    await this.router.bind(this.opts.bind);
    this.endpoint = this.router.lastEndpoint ?? this.opts.bind;
    this.members.set(this.id, this.endpoint);
    this.map.persist(this.mapFile);
    this.rateTimer = setInterval(() => this.sampleRates(), 1000).unref();
    this.done = Promise.all([this.receiveLoop(), this.sender.run()]).then(() => undefined);
    return this.endpoint;
  }

  registerCommand(name: string, handler: CommandHandler, opts: { write?: boolean } = {}): void {
    this.commands.set(name, { handler, write: !!opts.write });
  }

  onMapChange(cb: (map: ForkMap) => void): () => void {
    this.mapListeners.add(cb);
    return () => this.mapListeners.delete(cb);
  }

  /** Merge `map` into ours (newest epoch per fork wins); true if ours changed. */
  applyMap(map: ForkMap, members?: Iterable<[string, string]>): boolean {
    for (const [id, ep] of members ?? []) if (id !== this.id && ep) this.members.set(id, ep);
    const merged = ForkMap.mergeMaps(this.map, map);
    if (merged.equals(this.map)) return false;
    merged.persist(this.mapFile);
    this.map = merged;
    for (const cb of this.mapListeners) cb(merged);
    return true;
  }

  fence(fork: string): void {
    this.fenced.add(fork);
  }
  unfence(fork: string): void {
    this.fenced.delete(fork);
  }
  isFenced(fork: string): boolean {
    return this.fenced.has(fork);
  }
  owns(fork: string): boolean {
    return this.map.get(fork)?.owner === this.id;
  }

  /** Check a key of a request: size, ownership and (for writes) fencing. Returns its fork. */
  route(key: Buffer, write: boolean): ForkEntry {
    if (key.length < ROUTING_BYTES) throw new StoreError('BAD_REQUEST', `key of ${key.length} bytes is shorter than the ${ROUTING_BYTES} routing bytes every stored key starts with`);
    if (key.length > this.maxKeyBytes) throw new StoreError('TOO_LARGE', `key of ${key.length} bytes exceeds the ${this.maxKeyBytes}-byte limit`);
    return this.checkOwner(this.map.lookup(key), write);
  }

  checkOwner(e: ForkEntry, write: boolean): ForkEntry {
    if (e.owner !== this.id) {
      throw new StoreError('MOVED', `fork ${e.fork} is owned by ${e.owner} (epoch ${e.epoch})`, true, { fork: e.fork, owner: e.owner, endpoint: this.members.get(e.owner) ?? '', epoch: e.epoch });
    }
    if (write && this.fenced.has(e.fork)) throw new StoreError('FENCED', `fork ${e.fork} is fenced for a move; retry shortly`, true);
    if (write && this.writeGate) {
      const refused = this.writeGate(e.fork);
      if (refused) throw refused;
    }
    this.ops.set(e.fork, (this.ops.get(e.fork) ?? 0) + 1);
    return e;
  }

  watchFork(fork: string, cb: Watcher): () => void {
    this.incrQueue.flush(); // queued increments are applied unwatched; apply them before the watch starts
    return this.changeLog.watch(fork, cb);
  }
  isWatched(fork: string): boolean {
    return this.changeLog.isWatched(fork);
  }
  /** Note a write to a watched fork (write handlers call this for every row they change). */
  noteChange(fork: string, key: Buffer, value: Buffer | bigint | undefined): void {
    this.changeLog.note(fork, key, value);
  }
  noteDedup(fork: string, producer: string, seq: number, anchor: Buffer): void {
    this.changeLog.noteDedup(fork, producer, seq, anchor);
  }

  async *exportFork(fork: string, rowsPerChunk = 4096): AsyncGenerator<ForkChunk> {
    const prefix = Buffer.from(fork, 'hex');
    let after: Buffer | null = null;
    let dedup = this.db.dedupUnder(prefix);
    for (;;) {
      this.incrQueue.flush();
      const rows = this.db.scan(prefix, after, rowsPerChunk);
      const last = rows.length ? rows[rows.length - 1]!.key : Buffer.alloc(0);
      const done = rows.length < rowsPerChunk;
      yield { fork, entries: rows.map((r) => ({ key: r.key, ...storedToWire(r.value) })), dedup, last, done };
      if (done) return;
      dedup = [];
      after = last;
      await new Promise((r) => setImmediate(r));
    }
  }

  importChunk(chunk: ForkChunk): Promise<void> {
    this.openTxn();
    this.incrQueue.flush();
    this.db.atomic(() => {
      for (const e of chunk.entries) {
        const v = wireToStored(e);
        if (v === undefined) this.db.delete(e.key);
        else if (typeof v === 'bigint') this.db.setCounter(e.key, v);
        else this.db.set(e.key, v);
        this.noteChange(this.map.lookup(e.key).fork, e.key, v);
      }
      for (const d of chunk.dedup) this.db.dedupRecord(d.producer, d.seq, d.anchor);
    });
    this.opsInTxn += chunk.entries.length;
    return this.afterCommit();
  }

  dropFork(fork: string): Promise<number> {
    this.openTxn();
    this.incrQueue.flush();
    const n = this.db.purge(Buffer.from(fork, 'hex'), true);
    return this.afterCommit().then(() => n);
  }

  afterCommit(): Promise<void> {
    if (!this.db.inTransaction) return Promise.resolve();
    return new Promise((r) => this.commitWaiters.push(r));
  }

  /** Open the group transaction if needed and schedule its commit at the end of this turn. */
  openTxn(): void {
    if (!this.db.inTransaction) this.db.begin();
    if (!this.commitScheduled) {
      this.commitScheduled = true;
      setImmediate(() => this.commit());
    }
  }

  /** Commit the group transaction, then release every reply and change it held back. */
  commit(): void {
    this.commitScheduled = false;
    if (!this.db.inTransaction) return;
    let failed: Error | null = null;
    try {
      this.incrQueue.flush(); // its replies join `pending` before it is read below
      this.db.commit();
    } catch (err) {
      failed = err as Error;
      this.db.rollback();
    }
    const pending = this.pending;
    const waiters = this.commitWaiters;
    this.pending = [];
    this.commitWaiters = [];
    this.opsInTxn = 0;
    for (const p of pending) {
      if (failed && p.write) this.enqueue(p.peer, this.errorReply(p.id, new StoreError('INTERNAL', `commit failed, nothing of this request was stored: ${failed.message}`, true)));
      else this.enqueue(p.peer, p.buf);
    }
    this.changeLog.publish(!failed);
    for (const w of waiters) w();
    // A commit releases a whole group of replies: send them now, between incoming messages, so
    // clients get acks while a long burst is still being applied.
    this.sender.wakeNow();
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (const frames of this.router) {
        // After a big bundle, commit and reply at once rather than after draining the socket:
        // the client then works on these replies while this actor applies the next bundle.
        if (this.onMessage(frames) >= 64 || this.opsInTxn >= (this.opts.commitEveryOps ?? 16384)) this.commit();
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
   */
  private onMessage(frames: Buffer[]): number {
    const peer = frames[0]!;
    let count = 0;
    for (let i = 1; i < frames.length; i++) {
      const f = frames[i]!;
      let pos = 0;
      do {
        let r: { value: unknown; offset: number };
        try {
          r = RequestType.decode(f, pos);
          if (r.offset < 0) throw new Error('truncated');
        } catch (err) {
          this.enqueue(peer, this.errorReply(0, new StoreError('BAD_REQUEST', `frame of ${f.length} bytes is not an Avro Request (schemas/store.ts) at byte ${pos}: ${(err as Error).message}`)));
          break;
        }
        pos = r.offset;
        if (++count === 2) this.sender.markBundling(peer);
        this.dispatch(r.value as Request, peer);
      } while (pos < f.length);
    }
    return count;
  }

  private dispatch(req: Request, peer: Buffer): void {
    const spec = this.commands.get(req.cmd);
    if (!spec) {
      this.reply(peer, req.id, this.errorReply(req.id, new StoreError('UNKNOWN_COMMAND', `unknown command ${JSON.stringify(req.cmd)}; known: ${[...this.commands.keys()].sort().join(', ')}`)), false);
      return;
    }
    if (this.stopping) {
      this.reply(peer, req.id, this.errorReply(req.id, new StoreError('STOPPING', `actor ${this.id} is stopping`, true)), false);
      return;
    }
    const ctx: RequestContext = { actor: this, req, peer };
    // Queued increments apply before any other request, so it sees them (self-atomic handlers,
    // i.e. batch, flush themselves outside their savepoint, or queue onto them).
    if (!spec.selfAtomic) this.incrQueue.flush();
    let out: Buffer | Promise<Buffer>;
    // Reads join the group transaction too: inside one, a point read costs a fraction of an
    // autocommit read (no per-statement WAL snapshot), and their replies leave with the group.
    this.openTxn();
    try {
      if (spec.write) {
        out = spec.selfAtomic ? spec.handler(req.body, ctx) : this.atomicWrite(() => spec.handler(req.body, ctx));
        this.opsInTxn++;
      } else out = spec.handler(req.body, ctx);
    } catch (err) {
      this.reply(peer, req.id, this.errorReply(req.id, err), spec.write);
      return;
    }
    if (out === DEFERRED_REPLY) return; // the increment queue replies through settle()
    if (out instanceof Promise) {
      out.then(
        (body) => this.enqueue(peer, this.okReply(req.id, body)),
        (err) => this.enqueue(peer, this.errorReply(req.id, err)),
      );
    } else this.reply(peer, req.id, this.okReply(req.id, out), spec.write);
  }

  /** Run `fn` under a savepoint: on throw, undo its writes and the changes it noted, and rethrow. */
  atomicWrite<T>(fn: () => T): T {
    const mark = this.changeLog.mark();
    try {
      return this.db.atomic(fn);
    } catch (err) {
      this.changeLog.rollback(mark);
      throw err;
    }
  }

  /** Reply to a request whose handler returned DEFERRED_REPLY (sent after the commit, like any write). */
  settle(ctx: RequestContext, err: unknown, body: Buffer): void {
    this.reply(ctx.peer, ctx.req.id, err ? this.errorReply(ctx.req.id, err) : this.okReply(ctx.req.id, body), true);
  }

  /** Hold the reply until the open transaction commits (so nothing uncommitted is acknowledged or read). */
  private reply(peer: Buffer, id: number, buf: Buffer, write: boolean): void {
    if (this.db.inTransaction) this.pending.push({ peer, id, buf, write });
    else this.enqueue(peer, buf);
  }

  private okReply(id: number, body: Buffer): Buffer {
    return encodeReply({ id, code: 'OK', message: '', retryable: false, redirect: null, body });
  }

  errorReply(id: number, err: unknown): Buffer {
    const e = asStoreError(err);
    return encodeReply({ id, code: e.code, message: e.message, retryable: e.retryable, redirect: e.redirect, body: Buffer.alloc(0) });
  }

  private enqueue(peer: Buffer, buf: Buffer): void {
    this.sender.push(peer, buf);
  }

  private sampleRates(): void {
    for (const [fork, n] of this.ops) {
      this.opsPerSec.set(fork, n - (this.lastOps.get(fork) ?? 0));
      this.lastOps.set(fork, n);
    }
  }

  /** Flush pending writes and replies, close the socket and the database. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.rateTimer) clearInterval(this.rateTimer);
    this.commit();
    const until = Date.now() + 2000;
    this.sender.stop();
    while (this.sender.queued && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    this.router.close();
    await this.done?.catch(() => undefined);
    this.db.close();
  }
}
