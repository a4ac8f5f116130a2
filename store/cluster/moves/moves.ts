// Fork moves of one actor: the commands (`move`, `move-chunk`, `move-verify`, `move-cutover`, `move-abort`, `map-put`), the
// forwarding of `move` to the member that acts, and the three sides that run the pure machines: the source of a live
// move (source.ts), its target (target.ts) and forced takeovers (takeover.ts). The protocol is described in
// store/README.md "Live fork moves" and at the top of each machine.
import { MOVE_COMMANDS, type MoveReply } from '../../../schemas/moves.js';
import type { ForkEntry } from '../../../schemas/fork_map.js';
import type { StoreActor } from '../../actor/actor.js';
import type { PeerLink } from '../../client/peer_link.js';
import type { ForkMap } from '../../map/fork_map.js';
import { StoreError } from '../../protocol/errors.js';
import { MoveIntents } from './intents.js';
import type { MoveCluster } from './move_cluster.js';
import { SourceSide } from './source.js';
import { Takeovers } from './takeover.js';
import { TargetSide } from './target.js';

const EMPTY = Buffer.alloc(0);
/** Members with stale maps could bounce a request between them; a few hops reach any owner. */
const MAX_HOPS = 4;
const FORWARD_TIMEOUT_MS = 120000;

export class Moves {
  private readonly intents: MoveIntents;
  private readonly sources: SourceSide;
  private readonly targets: TargetSide;
  private readonly takeovers: Takeovers;

  constructor(private readonly actor: StoreActor, private readonly cluster: MoveCluster, private readonly link: PeerLink) {
    this.intents = new MoveIntents(actor.opts.dataDir);
    this.sources = new SourceSide(actor, cluster, link, this.intents);
    this.targets = new TargetSide(actor, (fork) => this.sources.busy(fork) || this.takeovers.busy(fork));
    this.takeovers = new Takeovers(actor, cluster, link, this.intents);
    // Decisions cut short by a crash: their forks are fenced now, before any write can reach them.
    for (const intent of this.intents.all()) {
      if (intent.kind === 'cut-over') this.sources.resolve(intent);
      else this.takeovers.restart(intent);
    }
  }

  register(): void {
    const a = this.actor;
    a.registerCommand('move', async (body) => {
      const req = MOVE_COMMANDS.move.decodeRequest(body);
      return MOVE_COMMANDS.move.encodeReply(await this.move(req.fork, req.to, req.force, req.hops));
    });
    a.registerCommand('move-chunk', async (body) => {
      await this.targets.chunk(MOVE_COMMANDS['move-chunk'].decodeRequest(body));
      return EMPTY;
    });
    a.registerCommand('move-verify', async (body) => {
      return MOVE_COMMANDS['move-verify'].encodeReply(await this.targets.verify(MOVE_COMMANDS['move-verify'].decodeRequest(body)));
    });
    a.registerCommand('move-cutover', async (body) => {
      await this.targets.cutOver(MOVE_COMMANDS['move-cutover'].decodeRequest(body));
      return EMPTY;
    });
    a.registerCommand('move-abort', async (body) => {
      await this.targets.abort(MOVE_COMMANDS['move-abort'].decodeRequest(body));
      return EMPTY;
    });
    a.registerCommand('map-put', (body) => {
      const req = MOVE_COMMANDS['map-put'].decodeRequest(body);
      let map = a.map;
      for (const e of req.entries) if ((map.get(e.fork)?.epoch ?? -1) < e.epoch) map = withEntry(map, e);
      a.applyMap(map);
      return EMPTY;
    });
  }

  /** Entry point of `dbslm store move`: runs here if this actor is the one to act, else forwards. */
  async move(fork: string, to: string, force: boolean, hops = 0): Promise<MoveReply> {
    const a = this.actor;
    const entry = a.map.get(fork);
    if (!entry) throw new StoreError('BAD_REQUEST', `fork ${JSON.stringify(fork)} is not a live fork (ids are hex routing-byte prefixes such as 3f; see \`dbslm store status\`)`);
    if (this.cluster.memberState(to) === undefined) {
      throw new StoreError('BAD_REQUEST', `no member ${JSON.stringify(to)}; members: ${this.cluster.memberIds().join(', ')}`);
    }
    const actingId = force ? to : entry.owner;
    if (actingId !== a.id) return this.forward(actingId, { fork, to, force, hops });
    if (this.sources.busy(fork) || this.takeovers.busy(fork)) {
      throw new StoreError('FENCED', `fork ${fork} is already moving (or its last cut-over is being resolved); retry when that ends`, true);
    }
    return force ? this.takeovers.takeOver(fork) : this.sources.moveOut(fork, to);
  }

  private async forward(actingId: string, req: { fork: string; to: string; force: boolean; hops: number }): Promise<MoveReply> {
    const ep = this.cluster.endpointOf(actingId) ?? this.actor.members.get(actingId);
    if (!ep) throw new StoreError('BAD_REQUEST', `no endpoint known for ${actingId}`);
    if (req.hops >= MAX_HOPS) {
      throw new StoreError('MOVED', `move of fork ${req.fork} forwarded ${req.hops} times without reaching its owner; the maps are settling, retry`, true);
    }
    const rep = await this.link.request(ep, 'move', MOVE_COMMANDS.move.encodeRequest({ ...req, hops: req.hops + 1 }), FORWARD_TIMEOUT_MS);
    if (rep.code !== 'OK') throw new StoreError(rep.code, rep.message, rep.retryable, rep.redirect);
    return MOVE_COMMANDS.move.decodeReply(rep.body);
  }
}

/** The map with one entry replaced; a fork split or merged meanwhile is the request's error. */
function withEntry(map: ForkMap, entry: ForkEntry): ForkMap {
  try {
    return map.withEntry(entry);
  } catch (err) {
    throw new StoreError('BAD_REQUEST', (err as Error).message);
  }
}
