// What the coordinator runs: a chain of stages from a source (which reads tasks) to a sink stage
// (whose outputs are written and acked), with the source's tasks and the run's bounds. A plan is
// plain data; definition_plan.ts makes one from a PipelineDefinition, tests make their own.
import type { ReadTask, StageMessageName } from '../../schemas/pipeline.js';
import type { SinkSpec } from './actor_spec.js';
import type { Transport } from './endpoints.js';
import type { ActorHost } from './stage_pool.js';

export interface StagePlan {
  name: string;
  workers: number;
  /** File URL of the stage module (exports createStage(config, compute)). */
  module: string;
  /** File URL of its piscina task module, or null. */
  taskModule: string | null;
  /** Threads of its pool, per worker. */
  poolSize: number;
  /** Its StageConfig (plain JSON). */
  config: Record<string, unknown>;
  /** The message type it emits; null for the last stage. */
  emits: StageMessageName | null;
  /** The definition's endpoint for its input; null: assigned (endpoints.ts). */
  endpoint: string | null;
  /** The declared host whose `pipeline worker` runs this stage (its actors bind tcp://ADDRESS:0); null or absent: this machine. */
  host?: { name: string; address: string } | null;
}

export interface RuntimePlan {
  /** The model (store namespace and batch producer ids) and pipeline name, for messages. */
  name: string;
  /** In data order: stages[0] is the source, the last one the sink stage. */
  stages: StagePlan[];
  /** The source's tasks, one per input (ReadTask.input distinct); skip/only are filled by the coordinator. */
  tasks: ReadTask[];
  /** Where the last stage's outputs go. */
  sink: SinkSpec;
  /** The address the coordinator's control socket binds with tcp (default 127.0.0.1): one remote stage actors can reach. */
  listenHost?: string;
  transport: Transport;
  /** Stage actors as child processes (default: a crash stays in its process) or worker threads (stage_pool.ts). */
  host?: ActorHost;
  /** Committed batches are recorded here (checkpoint.ts); null: no checkpoint, no resume. */
  checkpoint: { file: string; fingerprint: string } | null;
  /** Batches emitted and not acked at most, per worker of the sink stage (default 8). */
  inFlightPerSinkWorker?: number;
  /** Restarts per stage before the run fails (default 5). */
  maxRestarts?: number;
  /** ZeroMQ high-water mark of the data sockets, in messages (default 8). */
  highWaterMark?: number;
  /** With batches in flight and no ack or emit for this long, they are redelivered (default 30 s). */
  stallMs?: number;
  /** A worker not ready this long after start fails the run (default 20 s). */
  readyTimeoutMs?: number;
  /** Sink writes in flight per worker (default 4). */
  sinkConcurrency?: number;
  /** The run's metrics hub every actor publishes to (pipeline/metrics/hub.ts); absent: no metrics. */
  metrics?: { endpoint: string; intervalMs?: number } | null;
  /** Give every actor a tap publisher (`pipeline tap`; default true). */
  tap?: boolean;
  /**
   * What the sink stage taps (its outputs are written, not sent, so they have no message type of
   * their own): 'CountBatch' for the store sink; null: the sink stage has no tap.
   */
  sinkEmits?: StageMessageName | null;
}
