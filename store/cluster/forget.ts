// `dbslm store forget MEMBER`: a dead member is removed for good, so it no longer counts towards the quorum (a
// 2-member cluster that lost one member can write again). The member asked checks the request (forget_rules.ts),
// forgets the member (SWIM state `left`, kept durably in members.json) and tells every live peer, which forgets it as
// told; gossip carries the news to the rest, and a forgotten member is refused whatever incarnation it comes back with.
import { CLUSTER_COMMANDS, type ForgetReply } from '../../schemas/cluster.js';
import type { PeerLink } from '../client/peer_link.js';
import type { ForkMap } from '../map/fork_map.js';
import { StoreError } from '../protocol/errors.js';
import { forgetRefusal } from './forget_rules.js';
import type { Gossip } from './gossip.js';
import type { WriteLease } from './lease.js';

const RELAY_TIMEOUT_MS = 3000;

/** What forgetting needs of its actor. */
export interface ForgetHost {
  readonly id: string;
  readonly endpoint: string;
  readonly map: ForkMap;
}

export class Forgetting {
  constructor(private readonly host: ForgetHost, private readonly gossip: Gossip, private readonly lease: WriteLease, private readonly link: PeerLink) {}

  /** The `forget` command: from the operator (relay), or from the member that forgot first (apply as told). */
  async handle(body: Buffer): Promise<Buffer> {
    const { member, force, relay } = CLUSTER_COMMANDS.forget.decodeRequest(body);
    if (member === this.host.id) throw new StoreError('BAD_REQUEST', `${member} is the member asked; a member cannot forget itself`);
    if (!relay) {
      this.gossip.forget(member);
      return CLUSTER_COMMANDS.forget.encodeReply(this.reply(member, [this.host.id]));
    }
    const refused = forgetRefusal({
      member,
      state: this.gossip.memberState(member),
      ownedForks: this.host.map.forksOf(member).length,
      force,
      memberIds: this.gossip.members().map((m) => m.id),
      endpoint: this.host.endpoint,
    });
    if (refused) throw new StoreError('BAD_REQUEST', refused);
    this.gossip.forget(member);
    const told = CLUSTER_COMMANDS.forget.encodeRequest({ member, force, relay: false });
    const peers = this.gossip.members().filter((m) => m.id !== this.host.id && (m.state === 'alive' || m.state === 'suspect'));
    const replies = await Promise.all(peers.map(async (m) => ((await this.link.tryRequest(m.endpoint, 'forget', told, RELAY_TIMEOUT_MS))?.code === 'OK' ? [m.id] : [])));
    return CLUSTER_COMMANDS.forget.encodeReply(this.reply(member, [this.host.id, ...replies.flat()]));
  }

  private reply(member: string, forgottenBy: string[]): ForgetReply {
    return { member, forgottenBy, quorum: this.lease.quorum(), members: this.lease.memberCount() };
  }
}
