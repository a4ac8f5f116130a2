// `dbslm metrics tail`: subscribe to a hub's tail endpoint and print its view every interval, as a
// table redrawn in place (a TTY) or one JSON line per interval (--json, or not a TTY). Returns when
// the hub says the pipeline ended; throws naming the endpoint when nothing arrives within the
// timeout (nothing there, or the pipeline died without ending).
import zmq from 'zeromq';
import { InputError } from '../../model/errors.js';
import { decodeMetricsMessage, type MetricsView } from '../../schemas/metrics.js';
import { renderView } from './table.js';
import { withRates } from './view.js';

export interface TailOptions {
  endpoint: string;
  /** Print at most one view per interval (ms); rates are over the printed interval. */
  intervalMs: number;
  json: boolean;
  /** How long to wait for a view before failing (ms). */
  timeoutMs: number;
  write: (text: string) => void;
  /** Where "pipeline ended" goes (stderr in the CLI). */
  note: (text: string) => void;
}

/** A view arriving this much before the interval is due is printed anyway: the hub ticks on its own clock. */
const EARLY_TOLERANCE = 0.1;

export async function tailMetrics(opts: TailOptions): Promise<MetricsView> {
  const socket = new zmq.Subscriber({ receiveTimeout: opts.timeoutMs, linger: 0 });
  socket.subscribe();
  socket.connect(opts.endpoint);
  let printed: MetricsView | null = null;
  let printedAt = 0;
  try {
    for (;;) {
      let message: Buffer;
      try {
        [message] = (await socket.receive()) as [Buffer];
      } catch (err) {
        if ((err as { code?: string }).code !== 'EAGAIN') throw err;
        const why = printed === null ? 'no metrics hub answered' : 'the metrics hub went silent without saying the pipeline ended';
        throw new InputError(`${why} at ${opts.endpoint} within ${opts.timeoutMs} ms (is the pipeline running, and is the endpoint the one it printed?)`);
      }
      const view = decodeMetricsMessage('MetricsView', message);
      const due = Date.now() - printedAt >= opts.intervalMs * (1 - EARLY_TOLERANCE);
      if (!due && view.state !== 'ended') continue;
      // Rates over the interval actually printed, which may span several of the hub's.
      const shown: MetricsView = printed ? withRates(printed, view) : view;
      if (opts.json) opts.write(`${JSON.stringify(shown)}\n`);
      else opts.write(`\u001b[H\u001b[2J${renderView(shown, opts.endpoint)}`);
      printed = shown;
      printedAt = Date.now();
      if (view.state === 'ended') {
        opts.note(`pipeline ${view.pipeline} ended\n`);
        return shown;
      }
    }
  } finally {
    socket.close();
  }
}
