// `dbslm store takeover MEMBER`: any member takes the operator's request, checks that MEMBER is dead (or forgotten),
// spreads its forks over the live members (takeover_plan.ts) and asks each for its share at once (`takeover-forks`;
// its own share it runs itself). Each share is one takeover run (takeover_machine.ts: one quorum round and one lease
// wait for all its forks), and the shares run side by side, so the whole takeover takes about one lease period.
import { MOVE_COMMANDS, type TakeoverReply, type TakeoverRequest, type TakeoverResult } from '../../../schemas/moves.js';
import type { ForkMap } from '../../map/fork_map.js';
import type { PeerLink } from '../../client/peer_link.js';
import { StoreError } from '../../protocol/errors.js';
import { failWhenDead } from '../member_watch.js';
import type { MoveCluster } from './move_cluster.js';
import type { TakeoverOutcome } from './takeover_machine.js';
import { spreadForks } from './takeover_plan.js';

/** A share waits for one lease period plus a quorum round; far less than this unless the target is in trouble. */
const SHARE_TIMEOUT_MS = 60000;

/** What the coordinator needs of its own actor. */
export interface TakeoverHost {
  readonly id: string;
  readonly endpoint: string;
  readonly map: ForkMap;
  /** Runs a share here. */
  takeOver(forks: string[]): Promise<TakeoverOutcome[]>;
}

export function resultsOf(outcomes: TakeoverOutcome[], to: string): TakeoverResult[] {
  return outcomes.map((o) => ({ fork: o.fork, from: o.from, to, epoch: o.epoch, code: o.failure?.code ?? 'OK', message: o.failure?.message ?? '' }));
}

export class MemberTakeover {
  constructor(private readonly host: TakeoverHost, private readonly cluster: MoveCluster, private readonly link: PeerLink) {}

  async run(request: TakeoverRequest): Promise<TakeoverReply> {
    const started = performance.now();
    const { member } = request;
    this.checkDead(member);
    const targets = this.targets(request);
    const forks = this.host.map.forksOf(member).map((e) => e.fork);
    const owned = new Map<string, number>();
    for (const e of this.host.map.entries.values()) owned.set(e.owner, (owned.get(e.owner) ?? 0) + 1);
    const shares = [...spreadForks(forks, targets, owned)];
    const results = (await Promise.all(shares.map(([to, share]) => this.share(to, share, member)))).flat();
    results.sort((x, y) => (x.fork < y.fork ? -1 : x.fork > y.fork ? 1 : 0));
    return { member, results, ms: Math.round(performance.now() - started) };
  }

  private checkDead(member: string): void {
    const state = this.cluster.memberState(member);
    if (member === this.host.id) throw new StoreError('BAD_REQUEST', `${member} is the member asked; a takeover is of a dead member, asked of a live one`);
    if (state === undefined) throw new StoreError('BAD_REQUEST', `no member ${JSON.stringify(member)}; members: ${this.cluster.memberIds().join(', ')}`);
    if (state === 'alive' || state === 'suspect') {
      const wait = state === 'suspect' ? `; if it is gone, wait until \`dbslm store status --connect ${this.host.endpoint}\` shows it dead` : '';
      throw new StoreError('BAD_REQUEST', `member ${member} is ${state}: a takeover is only for a dead member (its forks restart empty); move its forks live with \`dbslm store move\` or \`dbslm store rebalance\`${wait}`);
    }
  }

  /** The live members to spread over: the ones asked for, or every alive member but the dead one. */
  private targets(request: TakeoverRequest): string[] {
    const alive = (id: string) => id === this.host.id || this.cluster.memberState(id) === 'alive';
    if (request.to.length) {
      const notAlive = request.to.filter((id) => !alive(id) || id === request.member);
      if (notAlive.length) throw new StoreError('BAD_REQUEST', `--to ${notAlive.join(', ')}: a takeover needs alive members to take the forks`);
      return request.to;
    }
    const targets = this.cluster.memberIds().filter((id) => id !== request.member && alive(id));
    if (!targets.length) throw new StoreError('BAD_REQUEST', `no alive member to take the forks of ${request.member}`);
    return targets;
  }

  /** One target's share; a target that fails or dies meanwhile fails its forks (they may stay fenced there: run it again). */
  private async share(to: string, forks: string[], from: string): Promise<TakeoverResult[]> {
    if (to === this.host.id) return resultsOf(await this.host.takeOver(forks), to);
    const failed = (message: string) => forks.map((fork) => ({ fork, from, to, epoch: 0, code: 'INTERNAL', message }));
    const endpoint = this.cluster.endpointOf(to);
    if (!endpoint) return failed(`no endpoint known for ${to}`);
    const body = MOVE_COMMANDS['takeover-forks'].encodeRequest({ forks });
    const request = this.link.request(endpoint, 'takeover-forks', body, SHARE_TIMEOUT_MS);
    const died = () => new Error(`${to} died while taking its share over`);
    try {
      const rep = await failWhenDead(request, () => this.cluster.memberState(to), died);
      if (rep.code !== 'OK') return failed(`${to} refused its share: ${rep.code}: ${rep.message}`);
      return MOVE_COMMANDS['takeover-forks'].decodeReply(rep.body).results;
    } catch (err) {
      return failed(`${(err as Error).message}; its forks may stay fenced at ${to}: run the takeover again`);
    }
  }
}
