// What a stage actor (one worker thread) is started with: plain JSON in workerData, so the same
// spec can later be sent to a `dbslm pipeline worker` on another host.
import type { StageMessageName } from '../../schemas/pipeline.js';

/** Where the last stage's outputs go. */
export type SinkSpec =
  /** Written to the store with StoreClient.batchAs under batchProducer(model, origin, run), then acked (store_sink.ts). */
  | { kind: 'store'; endpoints: string[]; model: string; run?: number; timeoutMs?: number }
  /** A module exporting `createSink(config): Sink` (tests; later other sinks): written by it, then acked. */
  | { kind: 'module'; url: string; config: unknown };

export interface ActorSpec {
  stage: string;
  /** This worker's index within its stage (0-based). */
  worker: number;
  /** How many times this worker was restarted before (0 for the first start). */
  incarnation: number;
  /** File URL of the stage module (exports createStage(config, compute)). */
  module: string;
  /** The stage's StageConfig (stages/stage_config.ts), plus any stage-specific fields. */
  config: Record<string, unknown>;
  /** The input endpoint this worker binds (ipc://... or tcp://HOST:PORT; port 0: any free one, reported in `ready`). */
  bind: string;
  /** Every worker endpoint of every downstream stage; one Push socket connects to all (round-robin). */
  downstream: string[];
  /** The message type this stage emits (schemas/pipeline.ts STAGE_MESSAGES); null for the sink stage. */
  emits: StageMessageName | null;
  /** The coordinator's control endpoint (its Pull), for ActorEvents. */
  control: string;
  /**
   * The source stage: each input message is a task the operator is applied to on its own (so the
   * actor knows when a task is exhausted); new batches wait for credits from the coordinator.
   */
  source: boolean;
  /** Set for the last stage: where its outputs are written before they are acked. */
  sink: SinkSpec | null;
  /** Piscina task module for compute(); null: compute runs the module's named export inline. */
  taskModule: string | null;
  poolSize: number;
  /** ZeroMQ high-water marks (messages) of the data sockets, and the bound on queued outputs. */
  highWaterMark: number;
  /** Sink writes in flight at once. */
  sinkConcurrency: number;
  /** Milliseconds between progress events. */
  progressMs: number;
  /** The run's metrics hub (MetricsHub.endpoint) this worker publishes its StageMetrics to; absent: none. */
  metrics?: { endpoint: string; intervalMs?: number } | null;
  /** Where this worker binds its tap publisher (`pipeline tap`), and the type of what it taps; absent: no tap. */
  tap?: { endpoint: string; emits: StageMessageName } | null;
}
