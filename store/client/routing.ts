// The store client's routing (client.ts extends it with the commands): a cached fork map fetched
// from any member, one connection per actor with many requests in flight (connection.ts), MOVED
// redirects learned into the map, retries of what is safe to retry, and silent actors checked with
// another member (dead_members.ts), so that requests to a dead owner fail fast with MemberDeadError
// or follow its forks to their new owners. `routed` groups items by owner, one request per owner.
import type { Reply } from '../../schemas/envelope.js';
import { STORE_COMMANDS, type StoreCommandName } from '../../schemas/store.js';
import type { CommandSchema, ReplyOf, RequestOf } from '../../schemas/command.js';
import { Connection, TimeoutError, type ConnectionOptions } from './connection.js';
import { DeadMembers } from './dead_members.js';
import { MemberDeadError, StoreReplyError } from './reply_errors.js';
import { ForkMap, type ForkEntry } from '../map/fork_map.js';

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

/** Redirects followed for one request before giving up (moves and splits settle in a few). */
export const MAX_HOPS = 16;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class StoreRouting {
  map: ForkMap;
  readonly members = new Map<string, string>();
  private readonly conns = new Map<string, Connection>();
  protected readonly timeoutMs: number;
  protected readonly retries: number;
  protected readonly deadMembers = new DeadMembers((ep, cmd, body, ms) => this.raw(ep, cmd, body, ms));
  private closed = false;

  protected constructor(
    private readonly seeds: string[],
    private readonly opts: ClientOptions,
    map: ForkMap,
  ) {
    this.map = map;
    this.timeoutMs = opts.timeoutMs ?? 10000;
    this.retries = opts.retries ?? 5;
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
  protected async refreshMapAvoiding(endpoint: string): Promise<boolean> {
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
  protected followFailover(owner: string): Promise<boolean> {
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
  protected async attempt(endpoint: string, cmd: string, body: Buffer, retries: number): Promise<Reply> {
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

  protected async learn(rep: Reply, from: string, hops: number): Promise<void> {
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
  protected async routed<I>(items: I[], keyOf: (i: I) => Buffer, send: (ep: string, items: I[]) => Promise<Reply>, accept: (rep: Reply, items: I[]) => void, resend = true, hops = 0): Promise<void> {
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
