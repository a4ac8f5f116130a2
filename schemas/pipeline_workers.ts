// The messages between a pipeline run's coordinator and its `dbslm pipeline worker` processes on
// other hosts (pipeline/runtime/worker_hosts.ts, remote_worker.ts): a worker says hello with its
// host name, the coordinator asks it to start or kill stage actors, and the worker reports each
// actor's exit. The actors themselves talk to the coordinator and to each other directly, as local
// ones do. One record with a kind, versioned like the stage messages.
import { avroType, decodeAs } from './command.js';

export const WORKER_PROTOCOL_VERSION = 1;

export type WorkerMessage =
  /** worker -> coordinator: the host name it serves (`--name`). */
  | { kind: 'hello'; name: string }
  /** coordinator -> worker: start the stage actor of this ActorSpec (JSON); `distRoot`: the coordinator's dbslm dist directory, for mapping module URLs. */
  | { kind: 'start'; spec: string; distRoot: string }
  /** coordinator -> worker: kill this actor now (a fault drill, or the run ends). */
  | { kind: 'kill'; stage: string; worker: number }
  /** worker -> coordinator: an actor exited (code, or 128 + signal). */
  | { kind: 'exited'; stage: string; worker: number; incarnation: number; code: number }
  /** coordinator -> worker: the run is over; kill what is left and exit. */
  | { kind: 'bye' };

const WorkerMessageType = avroType({
  type: 'record',
  name: 'dbslm.pipeline.WorkerMessage',
  fields: [
    { name: 'version', type: 'int' },
    { name: 'kind', type: { type: 'enum', name: 'dbslm.pipeline.WorkerMessageKind', symbols: ['hello', 'start', 'kill', 'exited', 'bye'] } },
    { name: 'name', type: 'string', default: '' },
    { name: 'spec', type: 'string', default: '' },
    { name: 'distRoot', type: 'string', default: '' },
    { name: 'stage', type: 'string', default: '' },
    { name: 'worker', type: 'int', default: 0 },
    { name: 'incarnation', type: 'int', default: 0 },
    { name: 'code', type: 'int', default: 0 },
  ],
});

export function encodeWorkerMessage(m: WorkerMessage): Buffer {
  return WorkerMessageType.toBuffer({ name: '', spec: '', distRoot: '', stage: '', worker: 0, incarnation: 0, code: 0, ...m, version: WORKER_PROTOCOL_VERSION });
}

export function decodeWorkerMessage(bytes: Buffer): WorkerMessage {
  const m = decodeAs<WorkerMessage & { version: number }>(WorkerMessageType, bytes, 'pipeline worker message');
  if (m.version !== WORKER_PROTOCOL_VERSION) throw new Error(`a pipeline worker message of protocol version ${m.version}; this dbslm speaks version ${WORKER_PROTOCOL_VERSION}: run the same dbslm version on every host`);
  return m;
}
