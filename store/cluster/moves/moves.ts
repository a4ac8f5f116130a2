// Live fork moves, run by the fork's owner (the source):
//   1. watch the fork's committed changes, then stream a snapshot to the target while writes continue;
//   2. forward the watched tail in commit order until it is short;
//   3. fence: writes to the fork get FENCED (retryable); wait for the open group commit, forward the last tail;
//   4. cut over: the target adopts (fork, target, epoch + 1), then the source does and gossips it.
// The tail carries final values and dedup records, so the target ends byte-identical and a retried batch stays
// applied once. A forced move (takeover) is only for a dead owner and is described at `takeover`.
import { CLUSTER_COMMANDS } from '../../../schemas/cluster.js';
import { ForkChunkType, type ForkChunk } from '../../../schemas/fork_chunk.js';
import { MOVE_COMMANDS, type MoveChunk, type MoveCommit, type MoveReply } from '../../../schemas/moves.js';
import type { StoreActor } from '../../actor/actor.js';
import { StoreError } from '../../protocol/errors.js';
import { ForkMap, type ForkEntry } from '../../map/fork_map.js';
import type { Gossip } from '../gossip.js';
import { MoveIntents, type MoveIntent } from './intents.js';
import type { PeerLink } from '../../client/peer_link.js';

const CHUNK_ROWS = 4096;
const CHUNK_BYTES = 8 * 1024 * 1024;
const PEER_TIMEOUT_MS = 30000;
const EMPTY = Buffer.alloc(0);

/** The map with one entry replaced; a fork split or merged meanwhile is the request's error. */
function withEntry(map: ForkMap, entry: ForkEntry): ForkMap {
  try {
    return map.withEntry(entry);
  } catch (err) {
    throw new StoreError('BAD_REQUEST', (err as Error).message);
  }
}

export class Migrations {
  /** Forks this actor is moving out (source side). */
  private readonly outgoing = new Set<string>();
  /** Forks being imported (target side): fork -> move id. */
  private readonly incoming = new Map<string, string>();
  /** Forced takeovers that did not yet reach a quorum: fenced here until a re-run completes them. */
  private readonly takeovers = new Set<string>();
  /** Cut-overs with an unknown outcome (unanswered, or interrupted by a crash): their forks stay fenced. */
  private readonly intents: MoveIntents;

  constructor(private readonly actor: StoreActor, private readonly gossip: Gossip, private readonly link: PeerLink) {
    this.intents = new MoveIntents(actor.opts.dataDir);
    for (const i of this.intents.all()) this.settle(i);
  }

  register(): void {
    const a = this.actor;
    a.registerCommand('move', (body) => {
      const req = MOVE_COMMANDS.move.decodeRequest(body);
      return this.move(req.fork, req.to, req.force, req.hops).then((r) => MOVE_COMMANDS.move.encodeReply(r));
    });
    a.registerCommand('move-chunk', (body) => {
      const req = MOVE_COMMANDS['move-chunk'].decodeRequest(body);
      return this.importChunk(req).then(() => EMPTY);
    });
    a.registerCommand('move-commit', (body) => {
      const req = MOVE_COMMANDS['move-commit'].decodeRequest(body);
      this.adopt(req);
      return EMPTY;
    });
    a.registerCommand('move-abort', (body) => {
      const req = MOVE_COMMANDS['move-abort'].decodeRequest(body);
      if (this.incoming.get(req.fork) !== req.moveId) return EMPTY;
      this.incoming.delete(req.fork);
      return a.dropFork(req.fork).then(() => EMPTY);
    });
    a.registerCommand('map-put', (body) => {
      const req = MOVE_COMMANDS['map-put'].decodeRequest(body);
      let map = a.map;
      for (const e of req.entries) if ((map.get(e.fork)?.epoch ?? -1) < e.epoch) map = withEntry(map, e);
      a.applyMap(map);
      return EMPTY;
    });
  }

  isMoving(fork: string): boolean { return this.outgoing.has(fork); }

  /** Entry point of `dbslm store move`: runs here if this actor is the one to act, else forwards. */
  async move(fork: string, to: string, force: boolean, hops = 0): Promise<MoveReply> {
    const entry = this.actor.map.get(fork);
    if (!entry) throw new StoreError('BAD_REQUEST', `fork ${JSON.stringify(fork)} is not a live fork (ids are hex routing-byte prefixes such as 3f; see \`dbslm store status\`)`);
    const target = this.gossip.swim.get(to);
    if (!target) throw new StoreError('BAD_REQUEST', `no member ${JSON.stringify(to)}; members: ${this.gossip.members().map((m) => m.id).join(', ')}`);
    const actingId = force ? to : entry.owner;
    if (actingId !== this.actor.id) {
      const ep = this.gossip.endpointOf(actingId) ?? this.actor.members.get(actingId);
      if (!ep) throw new StoreError('BAD_REQUEST', `no endpoint known for ${actingId}`);
      // Members with stale maps could bounce a request between them; a few hops reach any owner.
      if (hops >= 4) throw new StoreError('MOVED', `move of fork ${fork} forwarded ${hops} times without reaching its owner; the maps are settling, retry`, true);
      const rep = await this.link.request(ep, 'move', MOVE_COMMANDS.move.encodeRequest({ fork, to, force, hops: hops + 1 }), 120000);
      if (rep.code !== 'OK') throw new StoreError(rep.code, rep.message, rep.retryable, rep.redirect);
      return MOVE_COMMANDS.move.decodeReply(rep.body);
    }
    return force ? this.takeover(fork) : this.moveOut(fork, to);
  }

  private async moveOut(fork: string, to: string): Promise<MoveReply> {
    const a = this.actor;
    const started = performance.now();
    if (to === a.id) throw new StoreError('BAD_REQUEST', `${to} already owns fork ${fork}`);
    const peer = this.gossip.swim.get(to);
    if (!peer || peer.state !== 'alive') throw new StoreError('BAD_REQUEST', `target ${to} is ${peer?.state ?? 'unknown'}; moves need an alive target`, true);
    if (this.outgoing.has(fork)) throw new StoreError('FENCED', `fork ${fork} is already moving; retry when that move ends`, true);
    this.outgoing.add(fork);
    const moveId = `${a.id}:${fork}:${Date.now().toString(36)}:${Math.random().toString(36).slice(2, 8)}`;
    const tail: ForkChunk[] = [];
    // Watch before the snapshot starts, so every change committed after any snapshot read is in the tail.
    const unwatch = a.watchFork(fork, (c) => tail.push(c));
    let keys = 0;
    let rounds = 0;
    let committed = false;
    const send = async (chunk: ForkChunk) => {
      keys += chunk.entries.length;
      const body = MOVE_COMMANDS['move-chunk'].encodeRequest({ moveId, fork, source: a.id, chunk: ForkChunkType.toBuffer(chunk) });
      const rep = await this.link.request(peer.endpoint, 'move-chunk', body, PEER_TIMEOUT_MS);
      if (rep.code !== 'OK') throw new StoreError(rep.code, `target ${to} refused a chunk of fork ${fork}: ${rep.message}`, rep.retryable);
    };
    try {
      for await (const chunk of a.exportFork(fork, CHUNK_ROWS)) for (const c of coalesce(fork, [chunk])) await send(c);
      // Catch up while writes continue, until one round brings little.
      for (; rounds < 10; rounds++) {
        const batch = tail.splice(0);
        for (const c of coalesce(fork, batch)) await send(c);
        if (batch.reduce((n, c) => n + c.entries.length, 0) < 512) break;
      }
      a.fence(fork);
      await a.afterCommit();
      for (const c of coalesce(fork, tail.splice(0))) await send(c);
      if (!(await this.waitLease())) throw new StoreError('FENCED', `actor ${a.id} lost its write lease during the move of ${fork}; retry`, true);
      const epoch = a.map.version + 1;
      this.intents.add({ moveId, fork, to, epoch });
      committed = await this.commit(peer.endpoint, { moveId, fork, from: a.id, epoch });
      if (!committed) {
        this.settle({ moveId, fork, to, epoch });
        throw new StoreError('INTERNAL', `cut-over of fork ${fork} to ${to} at epoch ${epoch} went unanswered; the fork stays fenced until ${to} tells the outcome`, true);
      }
      a.applyMap(withEntry(a.map, { fork, owner: to, epoch }));
      this.intents.remove(fork);
      this.broadcast([{ fork, owner: to, epoch }]);
      await a.dropFork(fork);
      return { fork, from: a.id, to, epoch, keys, rounds: rounds + 1, ms: Math.round(performance.now() - started) };
    } catch (err) {
      if (!committed && !this.intents.has(fork)) void this.link.tryRequest(peer.endpoint, 'move-abort', MOVE_COMMANDS['move-abort'].encodeRequest({ moveId, fork }), 5000);
      throw err instanceof StoreError ? err : new StoreError('INTERNAL', `move of fork ${fork} to ${to} failed: ${(err as Error).message}`, true);
    } finally {
      unwatch();
      // After a cut-over with an unknown outcome the fork stays fenced until settle() learns it.
      if (!this.intents.has(fork)) a.unfence(fork);
      this.outgoing.delete(fork);
    }
  }

  /** Waits a little for the write lease (a member that just joined has not acked us yet). */
  private async waitLease(): Promise<boolean> {
    const until = performance.now() + this.gossip.swim.leaseMs * 2;
    while (!this.gossip.swim.leaseValid()) {
      if (performance.now() > until) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  }

  /** The cut-over request, resent on silence (the target adopts idempotently); false when the outcome is unknown. */
  private async commit(endpoint: string, c: MoveCommit): Promise<boolean> {
    const body = MOVE_COMMANDS['move-commit'].encodeRequest(c);
    for (let attempt = 0; attempt < 3; attempt++) {
      const rep = await this.link.tryRequest(endpoint, 'move-commit', body, 5000);
      if (rep?.code === 'OK') return true;
      if (rep) {
        this.intents.remove(c.fork);
        throw new StoreError(rep.code, `target refused the cut-over of fork ${c.fork}: ${rep.message}`, true);
      }
    }
    return false;
  }

  /**
   * Learns the outcome of a cut-over from its target, keeping the fork fenced meanwhile: first an abort (so a late
   * commit can no longer succeed), then the target's own map on the same connection, which is therefore final.
   */
  private settle(i: MoveIntent): void {
    const a = this.actor;
    a.fence(i.fork);
    const attempt = async (): Promise<void> => {
      const ep = this.gossip.endpointOf(i.to);
      const abort = ep && (await this.link.tryRequest(ep, 'move-abort', MOVE_COMMANDS['move-abort'].encodeRequest({ moveId: i.moveId, fork: i.fork }), 3000));
      const rep = abort && abort.code === 'OK' && (await this.link.tryRequest(ep, 'members', CLUSTER_COMMANDS.members.encodeRequest({}), 3000));
      if (!rep || rep.code !== 'OK') {
        setTimeout(() => void attempt(), 500).unref();
        return;
      }
      const theirs = CLUSTER_COMMANDS.members.decodeReply(rep.body).forks.find((f) => f.fork === i.fork);
      const mine = a.map.get(i.fork);
      if (theirs && mine && theirs.epoch >= i.epoch && theirs.epoch > mine.epoch) a.applyMap(withEntry(a.map, theirs));
      this.intents.remove(i.fork);
      a.unfence(i.fork);
    };
    void attempt();
  }

  /** Target side of one chunk: the first chunk of a new move clears leftovers of any earlier import. */
  private async importChunk(req: MoveChunk): Promise<void> {
    const a = this.actor;
    if (a.owns(req.fork)) throw new StoreError('BAD_REQUEST', `${a.id} already owns fork ${req.fork}`);
    let chunk: ForkChunk;
    try {
      chunk = ForkChunkType.fromBuffer(req.chunk) as ForkChunk;
    } catch (err) {
      throw new StoreError('BAD_REQUEST', `move-chunk of fork ${req.fork} holds no ForkChunk (schemas/store.ts): ${(err as Error).message}`);
    }
    if (chunk.fork !== req.fork) throw new StoreError('BAD_REQUEST', `chunk of fork ${chunk.fork} sent as fork ${req.fork}`);
    if (this.incoming.get(req.fork) !== req.moveId) {
      this.incoming.set(req.fork, req.moveId);
      await a.dropFork(req.fork);
    }
    await a.importChunk(chunk);
  }

  /** Target side of the cut-over; idempotent so the source may retry it. */
  private adopt(c: MoveCommit): void {
    const a = this.actor;
    const cur = a.map.get(c.fork);
    if (cur && cur.owner === a.id && cur.epoch === c.epoch) return;
    if (this.incoming.get(c.fork) !== c.moveId) throw new StoreError('BAD_REQUEST', `no import of fork ${c.fork} for move ${c.moveId} here (restarted?); the source keeps the fork`);
    if (cur && cur.epoch >= c.epoch) throw new StoreError('BAD_REQUEST', `fork ${c.fork} is already at epoch ${cur.epoch} >= ${c.epoch}`);
    this.incoming.delete(c.fork);
    a.applyMap(withEntry(a.map, { fork: c.fork, owner: a.id, epoch: c.epoch }));
  }

  /**
   * Forced move of a dead owner's fork to this actor, with no data (the dead owner's rows are not reachable).
   * Safe against the old owner coming back: the entry is adopted by a quorum first, and from then on any ack that
   * could renew the old owner's majority lease carries the new map; after one more lease period it cannot hold a
   * lease that predates the change, so it cannot write the fork. This actor keeps the fork fenced until then.
   */
  private async takeover(fork: string): Promise<MoveReply> {
    const a = this.actor;
    const started = performance.now();
    const entry = a.map.get(fork)!;
    // Re-running a takeover that could not reach a quorum resumes it; anything else this actor owns is done.
    const resume = entry.owner === a.id && this.takeovers.has(fork);
    if (entry.owner === a.id && !resume) throw new StoreError('BAD_REQUEST', `${a.id} already owns fork ${fork}`);
    const owner = this.gossip.swim.get(entry.owner);
    if (!resume && owner && owner.state !== 'dead') throw new StoreError('BAD_REQUEST', `owner ${entry.owner} of fork ${fork} is ${owner.state}; --force is only for a dead owner, use a live move`);
    a.fence(fork);
    this.takeovers.add(fork);
    let next = entry;
    if (!resume) {
      await a.dropFork(fork);
      next = { fork, owner: a.id, epoch: a.map.version + 1 };
      a.applyMap(withEntry(a.map, next));
    }
    const acks = 1 + (await this.broadcast([next]));
    const quorum = this.gossip.swim.quorum();
    if (acks < quorum) throw new StoreError('INTERNAL', `takeover of fork ${fork}: only ${acks} of the ${quorum} members needed adopted epoch ${next.epoch}; the fork stays fenced here, run the same move again`, true);
    await new Promise((r) => setTimeout(r, this.gossip.swim.leaseMs + 100));
    this.takeovers.delete(fork);
    a.unfence(fork);
    return { fork, from: resume ? '?' : entry.owner, to: a.id, epoch: next.epoch, keys: 0, rounds: 0, ms: Math.round(performance.now() - started) };
  }

  /** Pushes entries to every alive peer; resolves with how many adopted them. */
  private async broadcast(entries: ForkEntry[]): Promise<number> {
    const body = MOVE_COMMANDS['map-put'].encodeRequest({ entries });
    const reps = await Promise.all(this.gossip.swim.alivePeers().map((m) => this.link.tryRequest(m.endpoint, 'map-put', body, 3000)));
    return reps.filter((r) => r?.code === 'OK').length;
  }
}

/**
 * Regroups commit-ordered chunks into messages of at most CHUNK_ROWS rows and about CHUNK_BYTES bytes (one row of a
 * maximal value still fits the actor's 64 MiB frame limit). Order is kept, so later rows win on import.
 */
function coalesce(fork: string, chunks: ForkChunk[]): ForkChunk[] {
  const out: ForkChunk[] = [];
  let cur: ForkChunk | null = null;
  let bytes = 0;
  const fresh = () => {
    out.push((cur = { fork, entries: [], dedup: [], last: EMPTY, done: false }));
    bytes = 0;
    return cur;
  };
  for (const c of chunks) {
    (cur ?? fresh()).dedup.push(...c.dedup);
    for (const e of c.entries) {
      const size = e.key.length + e.data.length + 16;
      let target: ForkChunk = cur ?? fresh();
      if (target.entries.length >= CHUNK_ROWS || (bytes > 0 && bytes + size > CHUNK_BYTES)) target = fresh();
      target.entries.push(e);
      bytes += size;
    }
  }
  return out;
}
