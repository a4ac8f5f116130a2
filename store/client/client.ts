// The store client used by the pipeline, the decoder and the CLI.
//
// It routes every key by a cached fork map (fetched from any member on connect), follows MOVED
// redirects (updating the cache), keeps many requests in flight over one connection per actor
// (connection.ts), and retries what is safe to retry: reads, plain sets/deletes, and batches,
// which carry a producer id and sequence number (batch_sequence.ts) so an actor applies a
// redelivered batch exactly once. Plain `incr` is not idempotent and is never resent after a
// timeout; use `batch` for counts that must be exact. An actor that stops answering is checked with
// another member (dead_members.ts): requests to a dead owner fail fast with MemberDeadError naming
// the takeover, or follow its forks to their new owners once they were taken over.
//
// Longer than our usual modules (about 530 lines, multiScanPacked included): every command's routing, redirect and retry loop
// reads and updates the same private state (the cached fork map, member endpoints, connections,
// dead-member checks, the producer's batch seqs), so the loops stay in one class; the pieces
// without that state are apart already (connection, request channel, batch_sequence, batch_bodies,
// dead_members, reply_errors, pending_requests, batched_lookups).
import { randomUUID } from 'node:crypto';
import type { BatchOp } from '../../schemas/data.js';
import type { Reply } from '../../schemas/envelope.js';
import { STORE_COMMANDS, type StoreCommandName } from '../../schemas/store.js';
import type { CommandSchema, ReplyOf, RequestOf } from '../../schemas/command.js';
import type { WireValue } from '../../schemas/values.js';
import { Connection, TimeoutError, type ConnectionOptions } from './connection.js';
import { BatchSequence } from './batch_sequence.js';
import { DeadMembers } from './dead_members.js';
import { MemberDeadError, StoreReplyError } from './reply_errors.js';
import { ForkMap, type ForkEntry } from '../map/fork_map.js';
import { getReducer } from '../actor/reducers.js';
import { wireToStored } from '../protocol/values.js';
import { packByFork, type PackedFork } from '../protocol/packed_incrs.js';
import { batchBody, packedBody, toBatchOp, type ClientOp } from './batch_bodies.js';

export { MemberDeadError, StoreReplyError, TimeoutError };
export type Value = Buffer | bigint | undefined;
export type { ClientOp };

export interface ClientOptions extends ConnectionOptions {
  /** Per-attempt reply timeout (default 10 s). */
  timeoutMs?: number;
  /** Attempts after the first for retryable requests (default 5). */
  retries?: number;
  /**
   * Producer id for exactly-once batches (default: a random UUID per client). Sequence numbers
   * start at `firstSeq` (default 1), so a producer id reused by a new client instance must start
   * beyond the last seq it used, or its new batches would be dropped as duplicates.
   */
  producer?: string;
  firstSeq?: number;
  /**
   * An actor silent this long (default 1000 ms) with requests pending is checked with another member: if it is dead,
   * its requests fail at once (MemberDeadError) rather than at their timeout.
   */
  deadCheckMs?: number;
}

const MAX_HOPS = 16;
const EMPTY = Buffer.alloc(0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class StoreClient {
  map: ForkMap;
  readonly members = new Map<string, string>();
  readonly producer: string;
  private readonly conns = new Map<string, Connection>();
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly batchSeqs: BatchSequence;
  private readonly deadMembers = new DeadMembers((ep, cmd, body, ms) => this.raw(ep, cmd, body, ms));
  private closed = false;

  private constructor(
    private readonly seeds: string[],
    private readonly opts: ClientOptions,
    map: ForkMap,
  ) {
    this.map = map;
    this.timeoutMs = opts.timeoutMs ?? 10000;
    this.retries = opts.retries ?? 5;
    this.producer = opts.producer ?? randomUUID();
    this.batchSeqs = new BatchSequence(opts.firstSeq ?? 1);
  }

  /** Connect through any member(s): fetches the fork map and member endpoints. */
  static async connect(endpoints: string | string[], opts: ClientOptions = {}): Promise<StoreClient> {
    const seeds = Array.isArray(endpoints) ? endpoints : [endpoints];
    if (!seeds.length) throw new Error('StoreClient.connect needs at least one member endpoint');
    const c = new StoreClient(seeds, opts, ForkMap.initial('?', 0));
    try {
      await c.refreshMap();
    } catch (err) {
      c.close(); // its sockets would keep the process alive
      throw err;
    }
    return c;
  }

  /** Refetch the fork map from `endpoint` (default: any known member) and merge it in. */
  async refreshMap(endpoint?: string): Promise<void> {
    const candidates = endpoint ? [endpoint] : [...new Set([...this.seeds, ...this.members.values()])];
    let last: unknown;
    for (const ep of candidates) {
      try {
        const r = await this.call(ep, 'map', {});
        const m = ForkMap.fromEntries((r as { map: { entries: ForkEntry[] } }).map.entries);
        this.map = this.map.version === 0 ? m : ForkMap.mergeMaps(this.map, m);
        for (const { id, endpoint: e } of (r as { members: { id: string; endpoint: string }[] }).members) if (e) this.members.set(id, e);
        return;
      } catch (err) {
        last = err;
      }
    }
    throw new Error(`could not fetch the fork map from ${candidates.join(', ')}: ${(last as Error)?.message}`, { cause: last });
  }

  /** Refetch the map from a member other than `endpoint` (one that may be cut off); true if one answered. */
  private async refreshMapAvoiding(endpoint: string): Promise<boolean> {
    for (const ep of new Set([...this.seeds, ...this.members.values()])) {
      if (ep === endpoint) continue;
      if (await this.refreshMap(ep).then(() => true, () => false)) return true;
    }
    return false;
  }

  /**
   * `owner` was found dead: with replicas its forks fail over by themselves, so the map of another
   * member may name the new owner already (the dead-member check remembers the death for a while
   * and would fail requests until then). True if another member's map was read.
   */
  private followFailover(owner: string): Promise<boolean> {
    return this.refreshMapAvoiding(this.members.get(owner) ?? '');
  }

  conn(endpoint: string): Connection {
    // A check of a silent actor may still run after close(): it must not open sockets that keep the process alive.
    if (this.closed) throw new Error('the store client is closed');
    let c = this.conns.get(endpoint);
    if (!c) this.conns.set(endpoint, (c = new Connection(endpoint, this.opts, { stallMs: this.opts.deadCheckMs ?? 1000, onStall: () => void this.onSilent(endpoint) })));
    return c;
  }

  /** The actor at `endpoint` keeps silent: if another member holds it dead, fail what waits on it; learn that member's map either way. */
  private async onSilent(endpoint: string): Promise<void> {
    const member = [...this.members].find(([, ep]) => ep === endpoint)?.[0];
    const others = [...new Set([...this.seeds, ...this.members.values()])].filter((ep) => ep !== endpoint);
    const found = await this.deadMembers.check(member, endpoint, others);
    if (!found) return;
    try {
      this.map = ForkMap.mergeMaps(this.map, ForkMap.fromEntries(found.view.forks));
    } catch {
      // a map that does not tile is ignored; the next refresh will do
    }
    for (const m of found.view.members) if (m.endpoint && m.state !== 'left') this.members.set(m.id, m.endpoint);
    if (found.dead) this.conns.get(endpoint)?.failPending(found.dead);
  }

  /** Raw request: encode `req` with the command's schema (or pass bytes), return the reply. */
  async raw(endpoint: string, cmd: string, body: Buffer, timeoutMs = this.timeoutMs): Promise<Reply> {
    return this.conn(endpoint).request(cmd, body, timeoutMs, this.map.version);
  }

  /** Call a built-in command on one actor (no routing), with retries on timeout; throws on error replies. */
  async call<Name extends StoreCommandName>(endpoint: string, cmd: Name, req: RequestOf<(typeof STORE_COMMANDS)[Name]>, retries = 0): Promise<ReplyOf<(typeof STORE_COMMANDS)[Name]>> {
    const schema = STORE_COMMANDS[cmd] as CommandSchema<unknown, unknown>;
    const rep = await this.attempt(endpoint, cmd, schema.encodeRequest(req), retries);
    if (rep.code !== 'OK') throw new StoreReplyError(rep.code, rep.message, endpoint);
    return schema.decodeReply(rep.body) as ReplyOf<(typeof STORE_COMMANDS)[Name]>;
  }

  /** Send with retries on timeouts and retryable codes other than MOVED (which the router handles). */
  private async attempt(endpoint: string, cmd: string, body: Buffer, retries: number): Promise<Reply> {
    for (let i = 0; ; i++) {
      try {
        const rep = await this.raw(endpoint, cmd, body);
        if (rep.retryable && rep.code !== 'MOVED' && i < retries) {
          await sleep(Math.min(1000, 20 * 2 ** i));
          continue;
        }
        return rep;
      } catch (err) {
        if (!(err instanceof TimeoutError) || i >= retries) throw err;
      }
    }
  }

  /** The owner's endpoint, refetching the map once if the owner is not known yet (a new member). */
  async endpointFor(owner: string): Promise<string> {
    const dead = this.deadMembers.errorFor(owner);
    if (dead) throw dead;
    if (!this.members.has(owner)) await this.refreshMap().catch(() => undefined);
    return this.endpointOf(owner);
  }

  endpointOf(owner: string): string {
    const ep = this.members.get(owner);
    if (!ep) throw new Error(`no endpoint known for actor ${owner}; is it a member? (refresh the map)`);
    return ep;
  }

  /** Where a key lives, by the cached map. */
  locate(key: Buffer): ForkEntry & { endpoint: string } {
    const e = this.map.lookup(key);
    return { ...e, endpoint: this.members.get(e.owner) ?? '' };
  }

  private async learn(rep: Reply, from: string, hops: number): Promise<void> {
    const r = rep.redirect;
    const known = r && this.map.get(r.fork);
    if (r && r.endpoint) this.members.set(r.owner, r.endpoint);
    if (r && known && r.endpoint && hops < 4) {
      if (r.epoch > known.epoch) this.map = ForkMap.mergeMaps(this.map, ForkMap.fromEntries([...this.map.entries.values()].map((e) => (e.fork === r.fork ? { fork: r.fork, owner: r.owner, epoch: r.epoch } : e))));
      else if (r.epoch === known.epoch && r.owner !== known.owner) await this.refreshMap(from);
      else if (r.epoch < known.epoch) await sleep(10 * hops); // the other side is behind; gossip will catch it up
      return;
    }
    await this.refreshMap(from).catch(() => this.refreshMap());
  }

  /**
   * Route items by key to their owners, one request per owner, following redirects per group.
   * `send(endpoint, items)` returns the reply; `accept(rep, items)` consumes an OK reply.
   */
  private async routed<I>(items: I[], keyOf: (i: I) => Buffer, send: (ep: string, items: I[]) => Promise<Reply>, accept: (rep: Reply, items: I[]) => void, resend = true, hops = 0): Promise<void> {
    const groups = new Map<string, I[]>();
    for (const it of items) {
      const owner = this.map.lookup(keyOf(it)).owner;
      let g = groups.get(owner);
      if (!g) groups.set(owner, (g = []));
      g.push(it);
    }
    await Promise.all(
      [...groups].map(async ([owner, g]) => {
        const again = () => this.routed(g, keyOf, send, accept, resend, hops + 1);
        // Taken over or moved meanwhile (the map learned so since the group was formed): try the new owner.
        const elsewhere = () => resend && hops < MAX_HOPS && g.some((it) => this.map.lookup(keyOf(it)).owner !== owner);
        let ep = '';
        let rep: Reply;
        try {
          ep = await this.endpointFor(owner);
          rep = await send(ep, g);
        } catch (err) {
          if (!(err instanceof MemberDeadError)) throw err;
          if (elsewhere() || ((await this.followFailover(owner)) && elsewhere())) return again();
          throw err.forFork(this.map.lookup(keyOf(g[0]!)).fork);
        }
        if (rep.code === 'OK') return accept(rep, g);
        if ((rep.code === 'MOVED' || rep.code === 'CROSS_FORK') && hops < MAX_HOPS) {
          await this.learn(rep, ep, hops);
          return again();
        }
        // An owner without its lease cannot tell whether it still owns the fork: the others' map may know better.
        if (rep.code === 'FENCED' && (await this.refreshMapAvoiding(ep)) && elsewhere()) return again();
        throw new StoreReplyError(rep.code, rep.message, ep);
      }),
    );
  }

  async multiGet(keys: Buffer[]): Promise<Value[]> {
    const out = new Array<Value>(keys.length);
    const idx = keys.map((k, i) => ({ k, i }));
    await this.routed(
      idx,
      (x) => x.k,
      (ep, g) => this.attempt(ep, 'get', STORE_COMMANDS.get.encodeRequest({ keys: g.map((x) => x.k) }), this.retries),
      (rep, g) => {
        const vs = STORE_COMMANDS.get.decodeReply(rep.body).values;
        g.forEach((x, j) => (out[x.i] = wireToStored(vs[j]!)));
      },
    );
    return out;
  }
  /**
   * Every row of several short ranges (each prefix within one fork), one request per owner: what
   * a decoder reads for one token. A range longer than `limit` rows goes on with scan.
   */
  async multiScan(prefixes: Buffer[], limit = 1000): Promise<{ key: Buffer; value: Value }[][]> {
    const out = prefixes.map(() => [] as { key: Buffer; value: Value }[]);
    const cut: { i: number; after: Buffer }[] = [];
    await this.routed(
      prefixes.map((prefix, i) => ({ prefix, i })),
      (x) => x.prefix,
      (ep, g) => this.attempt(ep, 'scan-many', STORE_COMMANDS['scan-many'].encodeRequest({ prefixes: g.map((x) => x.prefix), limit }), this.retries),
      (rep, g) => {
        const { ranges } = STORE_COMMANDS['scan-many'].decodeReply(rep.body);
        g.forEach((x, j) => {
          const range = ranges[j]!;
          out[x.i] = range.keys.map((key, k) => ({ key, value: wireToStored(range.values[k]!) }));
          if (range.next) cut.push({ i: x.i, after: range.next });
        });
      },
    );
    for (const { i, after } of cut) for await (const row of this.scan(prefixes[i]!, { after, pageSize: 10000 })) out[i]!.push(row);
    return out;
  }

  /**
   * multiScan with each row packed as its key's last `keyTail` bytes and its value's first
   * `valueHead` bytes (scan-packed): per prefix, its rows back to back in one Buffer. For ranges of
   * fixed-width rows read as a table (a decoder's followers); much cheaper than a row object each.
   */
  async multiScanPacked(prefixes: Buffer[], keyTail: number, valueHead: number, limit = 0): Promise<Buffer[]> {
    const parts = prefixes.map(() => [] as Buffer[]);
    let todo: { prefix: Buffer; i: number; after: Buffer }[] = prefixes.map((prefix, i) => ({ prefix, i, after: EMPTY }));
    while (todo.length) {
      const cut: typeof todo = [];
      await this.routed(
        todo,
        (x) => x.prefix,
        (ep, g) => this.attempt(ep, 'scan-packed', STORE_COMMANDS['scan-packed'].encodeRequest({ prefixes: g.map((x) => x.prefix), afters: g.map((x) => x.after), limit, keyTail, valueHead }), this.retries),
        (rep, g) => {
          const { ranges } = STORE_COMMANDS['scan-packed'].decodeReply(rep.body);
          g.forEach((x, j) => {
            parts[x.i]!.push(ranges[j]!.rows);
            if (ranges[j]!.next) cut.push({ ...x, after: ranges[j]!.next! });
          });
        },
      );
      todo = cut;
    }
    return parts.map((p) => (p.length === 1 ? p[0]! : Buffer.concat(p)));
  }

  async get(key: Buffer): Promise<Value> {
    // Fast path for the common case (known owner, no redirect): no grouping, one request.
    const owner = this.map.lookup(key).owner;
    const ep = this.members.get(owner);
    // A dead owner or a FENCED reply takes the general path, which follows forks taken over.
    const rep = ep && !this.deadMembers.errorFor(owner) ? await this.attempt(ep, 'get', STORE_COMMANDS.get.encodeRequest({ keys: [key] }), this.retries).catch((err: unknown) => {
      if (err instanceof MemberDeadError) return null;
      throw err;
    }) : null;
    if (rep?.code === 'OK') return wireToStored(STORE_COMMANDS.get.decodeReply(rep.body).values[0]!);
    if (rep?.code === 'MOVED') await this.learn(rep, ep!, 0);
    else if (rep?.code === 'FENCED') await this.refreshMapAvoiding(ep!);
    else if (rep) throw new StoreReplyError(rep.code, rep.message, ep!);
    return (await this.multiGet([key]))[0];
  }

  async multiSet(entries: { key: Buffer; value: Buffer }[]): Promise<void> {
    await this.routed(
      entries,
      (e) => e.key,
      (ep, g) => this.attempt(ep, 'set', STORE_COMMANDS.set.encodeRequest({ entries: g }), this.retries),
      () => undefined,
    );
  }
  async set(key: Buffer, value: Buffer): Promise<void> {
    await this.multiSet([{ key, value }]);
  }

  async delete(keys: Buffer[]): Promise<number> {
    let n = 0;
    await this.routed(
      keys,
      (k) => k,
      (ep, g) => this.attempt(ep, 'delete', STORE_COMMANDS.delete.encodeRequest({ keys: g }), this.retries),
      (rep) => (n += STORE_COMMANDS.delete.decodeReply(rep.body).count),
    );
    return n;
  }

  /** Add deltas to counters, returning the new totals. Not retried after a timeout (not idempotent). */
  async multiIncr(entries: { key: Buffer; delta: number }[]): Promise<number[]> {
    const out = new Array<number>(entries.length);
    await this.routed(
      entries.map((e, i) => ({ ...e, i })),
      (e) => e.key,
      (ep, g) => this.attempt(ep, 'incr', STORE_COMMANDS.incr.encodeRequest({ entries: g.map(({ key, delta }) => ({ key, delta })) }), 0),
      (rep, g) => {
        const { totals } = STORE_COMMANDS.incr.decodeReply(rep.body);
        g.forEach((e, j) => (out[e.i] = totals[j]!));
      },
      false,
    );
    return out;
  }
  async incr(key: Buffer, delta: number): Promise<number> {
    return (await this.multiIncr([{ key, delta }]))[0]!;
  }

  /**
   * Apply ops exactly once. Ops are grouped by fork; each group is one atomic batch with its own
   * sequence number, resent on timeouts until acknowledged (the actor drops duplicates).
   */
  async batch(ops: ClientOp[]): Promise<void> {
    await Promise.all([...this.groupByFork(ops).values()].map((g) => this.sendBatch(g)));
  }

  /** Ops as batch ops, grouped by the fork each key is in under the current map. */
  private groupByFork(ops: ClientOp[]): Map<string, BatchOp[]> {
    return this.groupBatchOps(ops.map(toBatchOp));
  }

  private groupBatchOps(ops: BatchOp[]): Map<string, BatchOp[]> {
    const groups = new Map<string, BatchOp[]>();
    for (const o of ops) {
      const fork = this.map.lookup(o.key).fork;
      let g = groups.get(fork);
      if (!g) groups.set(fork, (g = []));
      g.push(o);
    }
    return groups;
  }

  /**
   * Apply ops exactly once under a producer id the caller derives from what the ops are (a
   * pipeline batch's input and offset), so that a restarted writer resending the same ops is
   * deduplicated: ops are grouped by fork and the groups, in fork order, get seqs 1, 2, ... The
   * grouping depends on the fork map, so a fork split between two sends of one batch would change
   * it; the caller's batches must not be resent across a split.
   */
  async batchAs(producer: string, ops: ClientOp[]): Promise<void> {
    const groups = this.groupByFork(ops);
    const forks = [...groups.keys()].sort();
    await Promise.all(forks.map((fork, i) => this.sendBatch(groups.get(fork)!, { producer, seq: i + 1 })));
  }

  /**
   * batchAs for a batch given packed: `keys` back to back with their `lengths`, the first
   * deltas.length increments by `deltas`, the rest marks. The pipeline's count batches carry ~10^5
   * keys, and an op object per key was most of the count actor's time and memory: the keys are
   * packed per fork straight from the bytes (packByFork). Same groups, seqs and wire form as
   * batchAs(producer, the increments then the marks).
   */
  async packedAs(producer: string, keys: Buffer, lengths: Uint32Array, deltas: readonly number[]): Promise<void> {
    const groups = packByFork(keys, lengths, deltas, (key) => this.map.lookup(key).fork);
    const forks = [...groups.keys()].sort();
    await Promise.all(forks.map((fork, i) => this.sendBatch(groups.get(fork)!, { producer, seq: i + 1 })));
  }

  private async sendBatch(ops: BatchOp[] | PackedFork, as?: { producer: string; seq: number }): Promise<void> {
    const seq = as ? as.seq : this.batchSeqs.take();
    const anchor = Array.isArray(ops) ? ops[0]!.key : ops.anchor;
    let done = false;
    try {
      for (let attempt = 0, hops = 0; ; ) {
        const owner = this.map.lookup(anchor).owner;
        const body = !Array.isArray(ops)
          ? packedBody(as!.producer, seq, ops)
          : as
            ? batchBody(as.producer, seq, 0, ops)
            : batchBody(this.producer, seq, this.batchSeqs.floor, ops);
        let ep = '';
        let rep: Reply;
        try {
          ep = await this.endpointFor(owner);
          rep = await this.raw(ep, 'batch', body);
        } catch (err) {
          // A dead owner's fork taken over (or failed over to a replica) meanwhile: the same (producer, seq) goes to its new owner.
          const moved = () => this.map.lookup(anchor).owner !== owner;
          if (err instanceof MemberDeadError && hops++ < MAX_HOPS && (moved() || ((await this.followFailover(owner)) && moved()))) continue;
          if (err instanceof MemberDeadError) throw err.forFork(this.map.lookup(anchor).fork);
          if (!(err instanceof TimeoutError) || attempt++ >= this.retries) throw err;
          continue;
        }
        if (rep.code === 'OK') return;
        if (rep.code === 'MOVED' && hops++ < MAX_HOPS) {
          await this.learn(rep, ep, hops);
          continue;
        }
        if (rep.code === 'CROSS_FORK' && hops++ < MAX_HOPS) {
          // The fork split under us: nothing was applied under this seq, so regroup with fresh seqs.
          if (as || !Array.isArray(ops)) throw new StoreReplyError(rep.code, `${rep.message}; batch ${as?.producer} was grouped by the old fork map: resend it whole`, ep);
          await this.refreshMap(ep);
          done = true;
          this.batchSeqs.settle(seq);
          await Promise.all([...this.groupBatchOps(ops).values()].map((g) => this.sendBatch(g)));
          return;
        }
        if (rep.retryable && attempt++ < this.retries) {
          await sleep(Math.min(1000, 20 * 2 ** attempt));
          continue;
        }
        throw new StoreReplyError(rep.code, rep.message, ep);
      }
    } finally {
      if (!done && !as) this.batchSeqs.settle(seq);
    }
  }

  /** Stream the entries under `prefix` in key order (fork by fork if the prefix spans several). */
  async *scan(prefix: Buffer, opts: { pageSize?: number; keysOnly?: boolean; after?: Buffer } = {}): AsyncGenerator<{ key: Buffer; value: Value }> {
    const forks = this.map.forksUnder(prefix).sort((a, b) => (a.fork < b.fork ? -1 : 1));
    const ranges = forks.length === 1 && prefix.length >= forks[0]!.fork.length / 2 ? [prefix] : forks.map((f) => Buffer.from(f.fork, 'hex'));
    for (const range of ranges) {
      // `after` (a key of the first range, where an earlier read stopped) resumes there.
      let after: Buffer | null = range === ranges[0] ? (opts.after ?? null) : null;
      for (let hops = 0; ; ) {
        const owner = this.map.forkOfPrefix(range)?.owner;
        if (!owner) throw new Error(`scan range 0x${range.toString('hex')} no longer lies in one fork; retry the scan`);
        const body = STORE_COMMANDS.scan.encodeRequest({ prefix: range, after, limit: opts.pageSize ?? 1000, keysOnly: !!opts.keysOnly });
        let ep = '';
        let rep: Reply;
        try {
          ep = await this.endpointFor(owner);
          rep = await this.attempt(ep, 'scan', body, this.retries);
        } catch (err) {
          if (!(err instanceof MemberDeadError)) throw err;
          if (hops++ < MAX_HOPS && this.map.forkOfPrefix(range)?.owner !== owner) continue;
          throw err.forFork(this.map.forkOfPrefix(range)?.fork ?? '?');
        }
        if (rep.code === 'MOVED' && hops++ < MAX_HOPS) {
          await this.learn(rep, ep, hops);
          continue;
        }
        if (rep.code !== 'OK') throw new StoreReplyError(rep.code, rep.message, ep);
        const r = STORE_COMMANDS.scan.decodeReply(rep.body);
        for (let i = 0; i < r.keys.length; i++) yield { key: r.keys[i]!, value: opts.keysOnly ? undefined : wireToStored(r.values[i]!) };
        if (!r.next) break;
        after = r.next;
      }
    }
  }

  /** Run a registered reducer on one fork-local prefix. */
  async reduce(name: string, prefix: Buffer, args: Buffer = EMPTY): Promise<Buffer> {
    const e = this.map.forkOfPrefix(prefix);
    if (!e) throw new Error(`reduce prefix 0x${prefix.toString('hex')} spans forks; use reduceAll`);
    const r = (await this.call(await this.endpointFor(e.owner), 'reduce', { name, prefix, args }, this.retries)) as { result: Buffer };
    return r.result;
  }

  /** Run a reducer on every actor over all forks it owns, combining the results client-side. */
  async reduceAll(name: string, args: Buffer = EMPTY): Promise<Buffer> {
    const red = getReducer(name);
    if (!red) throw new Error(`reducer ${name} is not registered in this process (import the module that registers it)`);
    const owners = [...new Set([...this.map.entries.values()].map((e) => e.owner))];
    const parts = await Promise.all(owners.map(async (o) => ((await this.call(await this.endpointFor(o), 'reduce', { name, prefix: EMPTY, args }, this.retries)) as { result: Buffer }).result));
    return red.combine(parts, args);
  }

  /** Every actor endpoint of the current map's owners. */
  ownerEndpoints(): string[] {
    return [...new Set([...this.map.entries.values()].map((e) => this.endpointOf(e.owner)))];
  }

  close(): void {
    this.closed = true;
    for (const c of this.conns.values()) c.close();
    this.conns.clear();
  }
}

