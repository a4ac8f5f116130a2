// The fork map on the wire: who owns which fork at which epoch, and where members listen. One
// definition for the store commands, gossip, moves and the persisted map file.
import { avroType } from './command.js';

export interface ForkEntry {
  fork: string;
  owner: string;
  epoch: number;
}
export const ForkEntryType = avroType({
  type: 'record',
  name: 'dbslm.store.ForkEntry',
  fields: [
    { name: 'fork', type: 'string' },
    { name: 'owner', type: 'string' },
    { name: 'epoch', type: 'long' },
  ],
});

export interface ForkMapRecord {
  version: number;
  entries: ForkEntry[];
}
export const ForkMapType = avroType({
  type: 'record',
  name: 'dbslm.store.ForkMap',
  fields: [
    { name: 'version', type: 'long' },
    { name: 'entries', type: { type: 'array', items: ForkEntryType } },
  ],
});

/** Where a member listens. */
export interface MemberEndpoint {
  id: string;
  endpoint: string;
}
export const MemberEndpointType = avroType({
  type: 'record',
  name: 'dbslm.store.Member',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'endpoint', type: 'string' },
  ],
});

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';
/** A member as gossip spreads it: its incarnation orders the news about it. */
export interface MemberUpdate {
  id: string;
  endpoint: string;
  incarnation: number;
  state: MemberState;
}
export const MemberUpdateType = avroType({
  type: 'record',
  name: 'dbslm.cluster.MemberUpdate',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'endpoint', type: 'string' },
    { name: 'incarnation', type: 'long' },
    { name: 'state', type: { type: 'enum', name: 'dbslm.cluster.MemberState', symbols: ['alive', 'suspect', 'dead', 'left'] } },
  ],
});
