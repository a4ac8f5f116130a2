// `dbslm pipeline tap`: subscribe to the tap publisher of every worker of one stage
// (tap_publisher.ts), decode what arrives (schemas/pipeline.ts) and print it as JSON lines, up to
// a limit. The stage publishes only while a tap is subscribed, and skips messages rather than wait
// for one, so tapping shows a sample of what leaves the stage, never all of it.
//
// Where the endpoints come from: --connect (given), or the run's record in out/.dbslm-metrics
// (written by the metrics hub, with each stage's tap endpoints), checked against the definition's
// name when a definition file is given.
import zmq from 'zeromq';
import { InputError } from '../../model/errors.js';
import { decodeStageMessage } from '../../schemas/pipeline.js';
import type { MetricsEndpointRecord } from '../metrics/endpoint_file.js';

export interface TapOptions {
  stage: string;
  /** The tap endpoints of the stage's workers. */
  endpoints: string[];
  /** Print this many messages, then return. */
  limit: number;
  /** Fail when no message arrives for this many milliseconds. */
  timeoutMs: number;
  write: (line: string) => void;
}

/** One printed line: the stage, the message type and the message, its bytes fields as lowercase hex. */
export interface TapLine {
  stage: string;
  type: string;
  bytes: 'hex';
  message: unknown;
}

/** `value` with every Buffer (Avro bytes) as a hex string, so JSON.stringify prints it as text. */
export function hexBuffers(value: unknown): unknown {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  if (Array.isArray(value)) return value.map(hexBuffers);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = hexBuffers(v);
    return out;
  }
  return value;
}

/**
 * The tap endpoints of `stage` in a run's record. `pipeline`: the definition's name, when tap was
 * given a definition file (the record must be that pipeline's run).
 */
export function tapEndpointsOf(record: MetricsEndpointRecord, file: string, stage: string, pipeline: string | null): string[] {
  if (pipeline !== null && record.pipeline !== pipeline) {
    throw new InputError(`${file} records a run of pipeline ${record.pipeline}, not ${pipeline}: start ${pipeline} from this directory first, or pass --connect with its tap endpoints`);
  }
  if (!record.taps) throw new InputError(`${file}: the run of ${record.pipeline} recorded no tap endpoints (it has not started counting, or counts nothing); wait for it to count, or pass --connect`);
  const eps = record.taps[stage];
  if (!eps) throw new InputError(`--stage ${stage}: pipeline ${record.pipeline} has no stage ${stage}; its stages are ${Object.keys(record.taps).join(', ')}`);
  if (eps.length === 0) throw new InputError(`--stage ${stage}: stage ${stage} of pipeline ${record.pipeline} has no tap (what it writes has no message type)`);
  return eps;
}

/** Prints up to `limit` messages of the stage; resolves with how many were printed. */
export async function tapStage(opts: TapOptions): Promise<number> {
  const socket = new zmq.Subscriber({ receiveTimeout: opts.timeoutMs, linger: 0 });
  socket.subscribe();
  for (const ep of opts.endpoints) socket.connect(ep);
  let printed = 0;
  try {
    while (printed < opts.limit) {
      let message: Buffer;
      try {
        [message] = (await socket.receive()) as [Buffer];
      } catch (err) {
        if ((err as { code?: string }).code !== 'EAGAIN') throw err;
        const what = printed === 0 ? 'no message' : `no message after ${printed}`;
        throw new InputError(
          `${what} from stage ${opts.stage} at ${opts.endpoints.join(', ')} within ${opts.timeoutMs} ms: is the pipeline running and counting (a stage taps only while it works), and are these its endpoints?`,
        );
      }
      const { name, value } = decodeStageMessage(message);
      const line: TapLine = { stage: opts.stage, type: name, bytes: 'hex', message: hexBuffers(value) };
      opts.write(`${JSON.stringify(line)}\n`);
      printed++;
    }
    return printed;
  } finally {
    socket.close();
  }
}
