// Fork moves of one actor: the commands (`move`, `move-chunk`, `move-verify`, `move-cutover`, `move-abort`, `map-put`,
// `takeover`, `takeover-forks`), the forwarding of `move` to the member that acts, and the sides that run the pure
// machines: the source of a live move (source.ts), its target (target.ts) and forced takeovers (takeover.ts; the
// operator's `takeover` of a whole dead member is member_takeover.ts). The protocol is described in store/README.md
// "Live fork moves" and at the top of each machine.
import { MOVE_COMMANDS, type MoveReply } from '../../../schemas/moves.js';
import type { ForkEntry } from '../../../schemas/fork_map.js';
import type { StoreActor } from '../../actor/actor.js';
import { PeerDisconnected, type PeerLink } from '../../client/peer_link.js';
import { supersedes } from '../../map/fork_entry.js';
import type { ForkMap } from '../../map/fork_map.js';
import { StoreError } from '../../protocol/errors.js';
import { failWhenDead } from '../member_watch.js';
import { MoveIntents } from './intents.js';
import { MemberTakeover, resultsOf } from './member_takeover.js';
import type { MoveCluster, MoveReplication } from './move_cluster.js';
import { SourceSide } from './source.js';
import type { TakeoverIntent } from './takeover_machine.js';
import { Takeovers } from './takeover.js';
import { TargetSide } from './target.js';

const EMPTY = Buffer.alloc(0);
/** Members with stale maps could bounce a request between them; a few hops reach any owner. */
const MAX_HOPS = 4;
const FORWARD_TIMEOUT_MS = 120000;
/** A replica move waits this long for its target to catch up (a snapshot and the tail), within the forwarding timeout. */
const REPLICA_MOVE_TIMEOUT_MS = 110000;
/** The largest epoch a peer may announce (2^52: room for any number of real changes after it). */
const MAX_EPOCH = 2 ** 52;

export class Moves {
  private readonly intents: MoveIntents;
  private readonly sources: SourceSide;
  private readonly targets: TargetSide;
  private readonly takeovers: Takeovers;
  private readonly memberTakeover: MemberTakeover;

  constructor(private readonly actor: StoreActor, private readonly cluster: MoveCluster, private readonly link: PeerLink, private readonly replication: MoveReplication) {
    this.intents = new MoveIntents(actor.opts.dataDir);
    this.sources = new SourceSide(actor, cluster, link, this.intents, replication);
    this.targets = new TargetSide(actor, (fork) => this.busy(fork));
    this.takeovers = new Takeovers(actor, cluster, link, this.intents);
    const host = { id: actor.id, endpoint: actor.endpoint, get map() { return actor.map; }, takeOver: (forks: string[]) => this.takeovers.takeOver(forks, (f) => this.busy(f)) };
    this.memberTakeover = new MemberTakeover(host, cluster, link);
    // Decisions cut short by a crash: their forks are fenced now, before any write can reach them.
    const takeovers: TakeoverIntent[] = [];
    for (const intent of this.intents.all()) {
      if (intent.kind === 'cut-over') this.sources.resolve(intent);
      else takeovers.push(intent);
    }
    if (takeovers.length) this.takeovers.restart(takeovers);
  }

  register(): void {
    const a = this.actor;
    a.registerCommand('move', async (body) => {
      const req = MOVE_COMMANDS.move.decodeRequest(body);
      return MOVE_COMMANDS.move.encodeReply(await this.move(req.fork, req.to, req.force, req.hops, req.from));
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
      // Epochs grow by one per change of owner; one near 2^53 (only a hostile or broken peer sends
      // it) would overflow the next change's epoch past what a long holds exactly.
      const absurd = req.entries.find((e) => !(e.epoch >= 0 && e.epoch <= MAX_EPOCH));
      if (absurd) throw new StoreError('BAD_REQUEST', `map-put: fork ${JSON.stringify(absurd.fork)} has epoch ${absurd.epoch}, outside 0..${MAX_EPOCH}`);
      let map = a.map;
      for (const e of req.entries) if (supersedes(e, map.get(e.fork))) map = withEntry(map, e);
      a.applyMap(map);
      return EMPTY;
    });
    a.registerCommand('takeover', async (body) => MOVE_COMMANDS.takeover.encodeReply(await this.memberTakeover.run(MOVE_COMMANDS.takeover.decodeRequest(body))));
    a.registerCommand('takeover-forks', async (body) => {
      const { forks } = MOVE_COMMANDS['takeover-forks'].decodeRequest(body);
      return MOVE_COMMANDS['takeover-forks'].encodeReply({ results: resultsOf(await this.takeovers.takeOver(forks, (f) => this.busy(f)), a.id) });
    });
  }

  /** A move, a cut-over resolution or a takeover of `fork` runs here. */
  busy(fork: string): boolean {
    return this.sources.busy(fork) || this.takeovers.busy(fork);
  }

  /**
   * Entry point of `dbslm store move`: runs here if this actor is the one to act, else forwards. `from`, when it
   * names a replica of the fork, moves that replica instead of the owner's copy (issue 10; the owner acts).
   */
  async move(fork: string, to: string, force: boolean, hops = 0, from = ''): Promise<MoveReply> {
    const a = this.actor;
    const started = performance.now();
    const entry = a.map.get(fork);
    if (!entry) throw new StoreError('BAD_REQUEST', `fork ${JSON.stringify(fork)} is not a live fork (ids are hex routing-byte prefixes such as 3f; see \`dbslm store status\`)`);
    if (this.cluster.memberState(to) === undefined) {
      throw new StoreError('BAD_REQUEST', `no member ${JSON.stringify(to)}; members: ${this.cluster.memberIds().join(', ')}`);
    }
    const ownerState = this.cluster.memberState(entry.owner);
    if (!force && entry.owner !== a.id && (ownerState === 'dead' || ownerState === 'left')) {
      // Its rows are out of reach: waiting for it to answer would only time out.
      const gone = ownerState === 'dead' ? 'dead' : 'forgotten';
      throw new StoreError('BAD_REQUEST', `owner ${entry.owner} of fork ${fork} is ${gone}, so the fork cannot move live (its rows are out of reach); take its forks over with \`dbslm store takeover ${entry.owner} --connect ${a.endpoint}\` (they restart empty), or restart ${entry.owner} on its data dir`);
    }
    const replicaMove = !force && from !== '' && from !== entry.owner;
    const actingId = force ? to : entry.owner;
    if (actingId !== a.id) return this.forward(actingId, { fork, to, force, hops, from });
    if (replicaMove) {
      const epoch = await this.replication.moveReplica(fork, from, to, REPLICA_MOVE_TIMEOUT_MS);
      return { fork, from, to, epoch, keys: 0, rounds: 0, ms: Math.round(performance.now() - started) };
    }
    if (this.busy(fork)) {
      throw new StoreError('FENCED', `fork ${fork} is already moving (or its last cut-over is being resolved); retry when that ends`, true);
    }
    if (!force && (entry.inSync ?? []).includes(to)) return this.sources.moveOut(fork, to, true); // a handover (handover.ts)
    if (!force && (entry.replicas ?? []).includes(to)) {
      // A live move's import, and its cleanup after an abort, would overwrite or drop the rows the target holds as a
      // replica, which a failover may then promote (issue 10: a fork never has two copies on one member); once in
      // sync, the replica holds every acknowledged write and the move is a handover instead.
      throw new StoreError('BAD_REQUEST', `${to} holds a replica of fork ${fork} that is not in sync yet: a move there waits until it is (it then takes the fork over from its own rows); retry when \`dbslm store status\` shows it in-sync`, true);
    }
    if (!force) return this.sources.moveOut(fork, to);
    const [outcome] = await this.takeovers.takeOver([fork], (f) => this.busy(f));
    if (outcome!.failure) throw new StoreError(outcome!.failure.code, outcome!.failure.message, outcome!.failure.retryable);
    return { fork, from: outcome!.from, to: a.id, epoch: outcome!.epoch, keys: 0, rounds: 0, ms: Math.round(performance.now() - started) };
  }

  /** Hands the move to the member that acts; fails as soon as gossip marks that member dead rather than at the timeout. */
  private async forward(actingId: string, req: { fork: string; to: string; force: boolean; hops: number; from: string }): Promise<MoveReply> {
    const ep = this.cluster.endpointOf(actingId) ?? this.actor.members.get(actingId);
    if (!ep) throw new StoreError('BAD_REQUEST', `no endpoint known for ${actingId}`);
    if (req.hops >= MAX_HOPS) {
      throw new StoreError('MOVED', `move of fork ${req.fork} forwarded ${req.hops} times without reaching its owner; the maps are settling, retry`, true);
    }
    const status = `\`dbslm store status --connect ${this.actor.endpoint}\``;
    const died = () =>
      new StoreError(
        'INTERNAL',
        `${actingId}, which was to carry out the move of fork ${req.fork}, died before it answered (gossip marks it dead); see ${status} for the fork's owner now, and if ${actingId} stays dead take its forks over with \`dbslm store takeover ${actingId} --connect ${this.actor.endpoint}\``,
      );
    const request = this.link.request(ep, 'move', MOVE_COMMANDS.move.encodeRequest({ ...req, hops: req.hops + 1 }), FORWARD_TIMEOUT_MS);
    // A dropped connection is the acting member dying or restarting: say so in the member's terms.
    const dropped = request.catch((err: unknown) => {
      if (err instanceof PeerDisconnected) {
        throw new StoreError(
          'INTERNAL',
          `${actingId}, which was to carry out the move of fork ${req.fork}, dropped the connection before it answered (dead or restarted); see ${status} for the fork's owner now, and if ${actingId} stays dead take its forks over with \`dbslm store takeover ${actingId} --connect ${this.actor.endpoint}\``,
        );
      }
      throw err;
    });
    const rep = await failWhenDead(dropped, () => this.cluster.memberState(actingId), died);
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
