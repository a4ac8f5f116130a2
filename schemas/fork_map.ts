// The fork map on the wire: who owns which fork at which epoch, and where members listen. One
// definition for the store commands, gossip, moves and the persisted map file.
import { avroType } from './command.js';

export interface ForkEntry {
  fork: string;
  owner: string;
  epoch: number;
  /** (replication, issue 10) Members holding a copy of the fork besides the owner; absent: none. */
  replicas?: string[];
  /** The replicas that have every acknowledged write: the ones a failover may promote (a subset of `replicas`). */
  inSync?: string[];
  /**
   * The epoch at which `owner` got the fork (0 or absent: `epoch`). A change of the replicas or the
   * in-sync set takes a new epoch but keeps the term, so the owner's replication stream, numbered
   * by term, goes on across it.
   */
  term?: number;
}
const ForkEntryFields = [
  { name: 'fork', type: 'string' },
  { name: 'owner', type: 'string' },
  { name: 'epoch', type: 'long' },
];
/** The entry of maps from before replication (persisted maps of older versions are read with it). */
export const ForkEntryV1Type = avroType({ type: 'record', name: 'dbslm.store.ForkEntryV1', fields: ForkEntryFields });
export const ForkEntryType = avroType({
  type: 'record',
  name: 'dbslm.store.ForkEntry',
  fields: [
    ...ForkEntryFields,
    { name: 'replicas', type: { type: 'array', items: 'string' }, default: [] },
    { name: 'inSync', type: { type: 'array', items: 'string' }, default: [] },
    { name: 'term', type: 'long', default: 0 },
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
/** The persisted map of older versions (entries without replicas), which read as maps without replicas. */
export const ForkMapV1Type = avroType({
  type: 'record',
  name: 'dbslm.store.ForkMapV1',
  fields: [
    { name: 'version', type: 'long' },
    { name: 'entries', type: { type: 'array', items: ForkEntryV1Type } },
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
