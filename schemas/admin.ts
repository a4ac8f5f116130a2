// Bodies of the administrative commands: per-fork statistics, checkpoints, the fork map and stop.
import { avroType, command, EmptyType, type Empty } from './command.js';
import { ForkMapType, MemberEndpointType, type ForkMapRecord, type MemberEndpoint } from './fork_map.js';

const name = (n: string) => `dbslm.store.${n}`;

export interface ForkStats {
  fork: string;
  epoch: number;
  keys: number;
  bytes: number;
  ops: number;
  opsPerSec: number;
  fenced: boolean;
}
export interface StatsReply {
  id: string;
  endpoint: string;
  epoch: number;
  durability: string;
  uptimeMs: number;
  forks: ForkStats[];
  /** Replies the actor dropped since it started because their peer did not read them (0 from actors older than the field). */
  droppedReplies: number;
}
/** The `metrics` reply: counters since the actor started, cheap enough to ask twice a second. */
export interface MetricsReply {
  id: string;
  uptimeMs: number;
  requests: number;
  bytesIn: number;
  replies: number;
  bytesOut: number;
  /** Requests answered with an error code. */
  errors: number;
  /** Milliseconds the actor's event loop was busy since start (its utilization is busyMs / uptimeMs). */
  busyMs: number;
  /** Replies waiting to be sent plus increment batches waiting to be applied. */
  queueDepth: number;
  /** Requests received and not yet answered (held until their group commits, or queued). */
  inFlight: number;
}
export interface CheckpointReply {
  busy: number;
  log: number;
  checkpointed: number;
}
export interface MapBody {
  map: ForkMapRecord;
  members: MemberEndpoint[];
}

const MapBodyFields = [
  { name: 'map', type: ForkMapType },
  { name: 'members', type: { type: 'array', items: MemberEndpointType } },
];

const ForkStatsType = avroType({
  type: 'record',
  name: name('ForkStats'),
  fields: [
    { name: 'fork', type: 'string' },
    { name: 'epoch', type: 'long' },
    { name: 'keys', type: 'long' },
    { name: 'bytes', type: 'long' },
    { name: 'ops', type: 'long' },
    { name: 'opsPerSec', type: 'double' },
    { name: 'fenced', type: 'boolean' },
  ],
});
const StatsFields = [
  { name: 'id', type: 'string' },
  { name: 'endpoint', type: 'string' },
  { name: 'epoch', type: 'long' },
  { name: 'durability', type: 'string' },
  { name: 'uptimeMs', type: 'long' },
  { name: 'forks', type: { type: 'array', items: ForkStatsType } },
];
/** The stats reply of actors from before `droppedReplies`. */
const StatsReplyV1 = avroType({ type: 'record', name: name('StatsReplyV1'), fields: StatsFields });

export const ADMIN_COMMANDS = {
  stats: command<Empty, StatsReply>(
    'stats',
    EmptyType,
    avroType({ type: 'record', name: name('StatsReply'), aliases: [name('StatsReplyV1')], fields: [...StatsFields, { name: 'droppedReplies', type: 'long', default: 0 }] }),
    [StatsReplyV1],
  ),
  metrics: command<Empty, MetricsReply>(
    'metrics',
    EmptyType,
    avroType({
      type: 'record',
      name: name('MetricsReply'),
      fields: [
        { name: 'id', type: 'string' },
        { name: 'uptimeMs', type: 'long' },
        ...['requests', 'bytesIn', 'replies', 'bytesOut', 'errors'].map((n) => ({ name: n, type: 'long' })),
        { name: 'busyMs', type: 'double' },
        { name: 'queueDepth', type: 'long' },
        { name: 'inFlight', type: 'long' },
      ],
    }),
  ),
  checkpoint: command<Empty, CheckpointReply>(
    'checkpoint',
    EmptyType,
    avroType({ type: 'record', name: name('CheckpointReply'), fields: [{ name: 'busy', type: 'int' }, { name: 'log', type: 'int' }, { name: 'checkpointed', type: 'int' }] }),
  ),
  map: command<Empty, MapBody>('map', EmptyType, avroType({ type: 'record', name: name('MapReply'), fields: MapBodyFields })),
  'map-apply': command<MapBody, { version: number }>(
    'map-apply',
    avroType({ type: 'record', name: name('MapApplyRequest'), fields: MapBodyFields }),
    avroType({ type: 'record', name: name('MapApplyReply'), fields: [{ name: 'version', type: 'long' }] }),
  ),
  stop: command<Empty, Empty>('stop', EmptyType, EmptyType),
};
