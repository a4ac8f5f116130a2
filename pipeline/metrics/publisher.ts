// In each stage actor: publishes its collector's snapshot to the coordinator's metrics hub every
// interval and once more on close. It never holds the stage back: a PUB socket drops what nobody
// receives (no hub yet, or a hub too slow), a tick that finds the previous send still running is
// skipped (the next snapshot carries the same totals), and the timer does not keep the thread alive.
import zmq from 'zeromq';
import { encodeMetricsMessage } from '../../schemas/metrics.js';
import type { StageMetrics } from './stage_metrics.js';

/** How often stage actors publish, and the hub publishes its merged view, by default. */
export const DEFAULT_METRICS_INTERVAL_MS = 500;
/** How long close() lets the final snapshot travel before the socket is dropped. */
const CLOSE_LINGER_MS = 1000;

export interface PublisherOptions {
  /** The hub's endpoint (MetricsHub.endpoint). */
  endpoint: string;
  intervalMs?: number;
}

export class MetricsPublisher {
  private readonly socket = new zmq.Publisher({ sendHighWaterMark: 16, linger: CLOSE_LINGER_MS });
  private timer: NodeJS.Timeout | null = null;
  private sending: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly metrics: StageMetrics,
    private readonly opts: PublisherOptions,
  ) {}

  /** Connect to the hub and start publishing (connecting never waits for the hub to be there). */
  start(): this {
    this.socket.connect(this.opts.endpoint);
    this.timer = setInterval(() => this.publish(false), this.opts.intervalMs ?? DEFAULT_METRICS_INTERVAL_MS);
    this.timer.unref();
    this.publish(false);
    return this;
  }

  /** Publish the final snapshot and close; the final one gets CLOSE_LINGER_MS to leave. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.sending;
    this.publish(true);
    await this.sending;
    this.closed = true;
    this.socket.close();
  }

  private publish(final: boolean): void {
    if (this.sending || this.closed) return;
    const message = encodeMetricsMessage('StageSnapshot', this.metrics.snapshot(final));
    this.sending = this.socket.send(message).then(
      () => {
        this.sending = null;
      },
      () => {
        this.sending = null; // a send that fails loses one snapshot; the next one has the totals
      },
    );
  }
}
