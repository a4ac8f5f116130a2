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
// The routing (the map, connections, redirects, retries, dead-member checks) is StoreRouting
// (routing.ts), which this class extends with the commands; the pieces without that state are
// apart (connection, request channel, batch_sequence, batch_bodies, dead_members, reply_errors,
// pending_requests, batched_lookups).
import { randomUUID } from 'node:crypto';
import type { BatchOp } from '../../schemas/data.js';
import type { Reply } from '../../schemas/envelope.js';
import { STORE_COMMANDS, type StoreCommandName } from '../../schemas/store.js';
import type { CommandSchema, ReplyOf, RequestOf } from '../../schemas/command.js';
import type { WireValue } from '../../schemas/values.js';
import { TimeoutError } from './connection.js';
import { BatchSequence } from './batch_sequence.js';
import { MemberDeadError, StoreReplyError } from './reply_errors.js';
import { ForkMap } from '../map/fork_map.js';
import { MAX_HOPS, StoreRouting, type ClientOptions } from './routing.js';
import { getReducer } from '../actor/reducers.js';
import { wireToStored } from '../protocol/values.js';
import { packByFork, type PackedFork } from '../protocol/packed_incrs.js';
import { batchBody, packedBody, toBatchOp, type ClientOp } from './batch_bodies.js';

export { MemberDeadError, StoreReplyError, TimeoutError };
export type Value = Buffer | bigint | undefined;
export type { ClientOp, ClientOptions };

const EMPTY = Buffer.alloc(0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class StoreClient extends StoreRouting {
  readonly producer: string;
  private readonly batchSeqs: BatchSequence;

  private constructor(seeds: string[], opts: ClientOptions, map: ForkMap) {
    super(seeds, opts, map);
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
}
