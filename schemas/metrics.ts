// Pipeline metrics on the wire, each a TypeScript type beside its Avro schema: the snapshot a stage
// actor publishes to the coordinator's metrics hub (StageSnapshot), and the merged view the hub
// publishes to `dbslm metrics tail` (MetricsView). Both travel in a MetricsMessage envelope naming
// the type and its schema version, as stage messages do (schemas/pipeline.ts): a hub or tail of
// another dbslm version is refused with a message naming both versions, not misread.
import { avroType, decodeAs } from './command.js';

/** Buckets of a latency histogram (pipeline/metrics/histogram.ts defines their bounds). */
export const LATENCY_BUCKETS = 64;

/** What one stage actor (one worker of a stage) has done since it started: totals, not deltas. */
export interface StageSnapshot {
  stage: string;
  worker: number;
  /** Random per collector: a new one means the worker was replaced, and its totals start over. */
  incarnation: string;
  /** Date.now() when the snapshot was taken. */
  atMs: number;
  itemsIn: number;
  bytesIn: number;
  itemsOut: number;
  bytesOut: number;
  errors: number;
  /** Restarts of the stage inside this worker (a replaced worker thread shows as a new incarnation). */
  restarts: number;
  inFlight: number;
  queueDepth: number;
  /** Milliseconds spent inside the stage's work (utilization = busy time / wall time). */
  busyMs: number;
  /** Batches per latency bucket, LATENCY_BUCKETS long. */
  latency: number[];
  /** The last snapshot of this worker: it is closing. */
  final: boolean;
}

export const StageSnapshotType = avroType({
  type: 'record',
  name: 'dbslm.metrics.StageSnapshot',
  fields: [
    { name: 'stage', type: 'string' },
    { name: 'worker', type: 'int' },
    { name: 'incarnation', type: 'string' },
    { name: 'atMs', type: 'long' },
    ...['itemsIn', 'bytesIn', 'itemsOut', 'bytesOut', 'errors', 'restarts', 'inFlight', 'queueDepth'].map((name) => ({ name, type: 'long' })),
    { name: 'busyMs', type: 'double' },
    { name: 'latency', type: { type: 'array', items: 'long' } },
    { name: 'final', type: 'boolean' },
  ],
});

/** A total and its rate per second over the last interval. */
export interface Counted {
  total: number;
  rate: number;
}
const CountedType = avroType({ type: 'record', name: 'dbslm.metrics.Counted', fields: [{ name: 'total', type: 'double' }, { name: 'rate', type: 'double' }] });

/** One row of `metrics tail`: a stage (its workers summed) or a store actor. */
export interface MetricsRow {
  kind: 'stage' | 'store';
  /** The stage name, or the store actor's id. */
  name: string;
  /** Workers reporting (stages); 1 for a store actor. */
  workers: number;
  itemsIn: Counted;
  itemsOut: Counted;
  bytesIn: Counted;
  bytesOut: Counted;
  errors: Counted;
  restarts: Counted;
  inFlight: number;
  queueDepth: number;
  /** Busy milliseconds since start, summed over workers (kept so a reader can take utilization over its own interval). */
  busyMs: number;
  /** Busy time / wall time over the last interval, averaged over workers (0..1); null before two samples. */
  utilization: number | null;
  /** Batch latency percentiles since start; null when no batch finished (or, for a store actor, not measured). */
  p50Ms: number | null;
  p99Ms: number | null;
  /** Whether the row's source answered at the last interval (a store actor that stops answering keeps its last totals). */
  up: boolean;
}

const nullableDouble = ['null', 'double'];
export const MetricsRowType = avroType({
  type: 'record',
  name: 'dbslm.metrics.MetricsRow',
  fields: [
    { name: 'kind', type: { type: 'enum', name: 'dbslm.metrics.RowKind', symbols: ['stage', 'store'] } },
    { name: 'name', type: 'string' },
    { name: 'workers', type: 'int' },
    ...['itemsIn', 'itemsOut', 'bytesIn', 'bytesOut', 'errors', 'restarts'].map((name) => ({ name, type: CountedType })),
    { name: 'inFlight', type: 'long' },
    { name: 'queueDepth', type: 'long' },
    { name: 'busyMs', type: 'double' },
    { name: 'utilization', type: nullableDouble },
    { name: 'p50Ms', type: nullableDouble },
    { name: 'p99Ms', type: nullableDouble },
    { name: 'up', type: 'boolean' },
  ],
});

/** What the hub publishes every interval, and once more with state 'ended' when the pipeline ends. */
export interface MetricsView {
  pipeline: string;
  state: 'running' | 'ended';
  atMs: number;
  rows: MetricsRow[];
}

export const MetricsViewType = avroType({
  type: 'record',
  name: 'dbslm.metrics.MetricsView',
  fields: [
    { name: 'pipeline', type: 'string' },
    { name: 'state', type: { type: 'enum', name: 'dbslm.metrics.RunState', symbols: ['running', 'ended'] } },
    { name: 'atMs', type: 'long' },
    { name: 'rows', type: { type: 'array', items: MetricsRowType } },
  ],
});

/** Every metrics message type, by name, with its current schema version. */
export const METRICS_MESSAGES = {
  StageSnapshot: { version: 1, type: StageSnapshotType },
  MetricsView: { version: 1, type: MetricsViewType },
} as const;
export type MetricsMessageName = keyof typeof METRICS_MESSAGES;
export interface MetricsMessageValues {
  StageSnapshot: StageSnapshot;
  MetricsView: MetricsView;
}

export const MetricsMessageType = avroType({
  type: 'record',
  name: 'dbslm.metrics.MetricsMessage',
  fields: [
    { name: 'type', type: 'string' },
    { name: 'version', type: 'int' },
    { name: 'body', type: 'bytes' },
  ],
});

export function encodeMetricsMessage<N extends MetricsMessageName>(name: N, value: MetricsMessageValues[N]): Buffer {
  const { version, type } = METRICS_MESSAGES[name];
  return MetricsMessageType.toBuffer({ type: name, version, body: type.toBuffer(value) });
}

/** Decodes a message that must be of type `name`; throws naming what came and what this dbslm reads. */
export function decodeMetricsMessage<N extends MetricsMessageName>(name: N, bytes: Buffer): MetricsMessageValues[N] {
  const envelope = decodeAs<{ type: string; version: number; body: Buffer }>(MetricsMessageType, bytes, 'metrics message envelope');
  const known = METRICS_MESSAGES[name];
  if (envelope.type !== name) throw new Error(`expected a ${name} metrics message, got ${JSON.stringify(envelope.type)}: is the endpoint the right one?`);
  if (envelope.version !== known.version) {
    throw new Error(`metrics message ${name} has schema version ${envelope.version}; this dbslm reads version ${known.version}: run the same dbslm version on every host`);
  }
  return decodeAs<MetricsMessageValues[N]>(known.type, envelope.body, `${name} v${envelope.version}`);
}
