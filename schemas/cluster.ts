// Bodies of the cluster's own commands: SWIM gossip, forgetting a dead member, the member view and the ownership history.
// They ride in the store envelope and reach an actor on its one ROUTER endpoint, so a peer learns
// of another only from `--join`.
import { avroType, command, EmptyType, type Empty } from './command.js';
import { ForkEntryType, MemberUpdateType, type ForkEntry, type MemberUpdate } from './fork_map.js';

const name = (n: string) => `dbslm.cluster.${n}`;

export type GossipKind = 'PING' | 'ACK' | 'PING_REQ' | 'JOIN' | 'NONE';
export interface GossipMessage {
  kind: GossipKind;
  from: string;
  fromEndpoint: string;
  incarnation: number;
  seq: number;
  /** PING_REQ: the member to probe; ACK: set when the ack is relayed for that member. */
  target: string;
  targetEndpoint: string;
  digest: string;
  updates: MemberUpdate[];
  /** The whole fork map, sent only when the peer's digest differs from ours (or on join). */
  forks: ForkEntry[];
}
const GossipType = avroType({
  type: 'record',
  name: name('Gossip'),
  fields: [
    { name: 'kind', type: { type: 'enum', name: name('GossipKind'), symbols: ['PING', 'ACK', 'PING_REQ', 'JOIN', 'NONE'] } },
    { name: 'from', type: 'string' },
    { name: 'fromEndpoint', type: 'string' },
    { name: 'incarnation', type: 'long' },
    { name: 'seq', type: 'long' },
    { name: 'target', type: 'string' },
    { name: 'targetEndpoint', type: 'string' },
    { name: 'digest', type: 'string' },
    { name: 'updates', type: { type: 'array', items: MemberUpdateType } },
    { name: 'forks', type: { type: 'array', items: ForkEntryType } },
  ],
});

export interface HistoryRow {
  fork: string;
  epoch: number;
  owner: string;
  atMs: number;
  reason: string;
}
export interface MembersReply {
  id: string;
  /** Whether the answering member holds its write lease now. */
  lease: boolean;
  deadAfterMs: number;
  members: MemberUpdate[];
  forks: ForkEntry[];
}

/**
 * Forget the dead `member` for good, so the quorum shrinks; `force`: even though it still owns forks. A member that
 * forgot one tells the others with `relay` false (they apply it as told).
 */
export interface ForgetRequest {
  member: string;
  force: boolean;
  relay: boolean;
}
export interface ForgetReply {
  member: string;
  /** The members that forgot it now (the one asked first). */
  forgottenBy: string[];
  /** The quorum and member count of the member asked, afterwards. */
  quorum: number;
  members: number;
}

export const CLUSTER_COMMANDS = {
  // One SWIM message each way: PING/PING_REQ/JOIN in, ACK (or NONE) out.
  gossip: command<GossipMessage, GossipMessage>('gossip', GossipType, GossipType),
  history: command<Empty, { id: string; rows: HistoryRow[] }>(
    'history',
    EmptyType,
    avroType({
      type: 'record',
      name: name('History'),
      fields: [
        { name: 'id', type: 'string' },
        {
          name: 'rows',
          type: {
            type: 'array',
            items: {
              type: 'record',
              name: name('HistoryRow'),
              fields: [
                { name: 'fork', type: 'string' },
                { name: 'epoch', type: 'long' },
                { name: 'owner', type: 'string' },
                { name: 'atMs', type: 'long' },
                { name: 'reason', type: 'string' },
              ],
            },
          },
        },
      ],
    }),
  ),
  forget: command<ForgetRequest, ForgetReply>(
    'forget',
    avroType({
      type: 'record',
      name: name('ForgetRequest'),
      fields: [{ name: 'member', type: 'string' }, { name: 'force', type: 'boolean', default: false }, { name: 'relay', type: 'boolean', default: true }],
    }),
    avroType({
      type: 'record',
      name: name('ForgetReply'),
      fields: [{ name: 'member', type: 'string' }, { name: 'forgottenBy', type: { type: 'array', items: 'string' } }, { name: 'quorum', type: 'int' }, { name: 'members', type: 'int' }],
    }),
  ),
  members: command<Empty, MembersReply>(
    'members',
    EmptyType,
    avroType({
      type: 'record',
      name: name('Members'),
      fields: [
        { name: 'id', type: 'string' },
        { name: 'lease', type: 'boolean' },
        { name: 'deadAfterMs', type: 'long' },
        { name: 'members', type: { type: 'array', items: MemberUpdateType } },
        { name: 'forks', type: { type: 'array', items: ForkEntryType } },
      ],
    }),
  ),
};
