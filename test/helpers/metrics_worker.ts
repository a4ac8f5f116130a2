// A stand-in stage actor in a child process, for the metrics tests: it counts the items it is told
// to (real StageMetrics), publishes through a real MetricsPublisher, and on 'close' publishes its
// final snapshot and exits. 'work' messages add more items while it runs.
import { MetricsPublisher } from '../../pipeline/metrics/publisher.js';
import { StageMetrics } from '../../pipeline/metrics/stage_metrics.js';

export interface MetricsWorkerData {
  endpoint: string;
  stage: string;
  worker: number;
}

const data = JSON.parse(process.argv[2]!) as MetricsWorkerData;
const metrics = new StageMetrics(data.stage, data.worker);
const publisher = new MetricsPublisher(metrics, { endpoint: data.endpoint, intervalMs: 50 }).start();

process.on('message', (m: { work?: { items: number; bytes: number; busyMs: number }; close?: true }) => {
  if (m.work) {
    metrics.received(m.work.items, m.work.bytes);
    metrics.emitted(m.work.items, m.work.bytes);
    metrics.busy(m.work.busyMs);
    metrics.latency(m.work.busyMs);
  }
  if (m.close) void publisher.close().then(() => process.exit(0));
});
process.send!('started');
