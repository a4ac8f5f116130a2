// The live table of `metrics tail` in a terminal: one row per stage and per store actor, redrawn in
// place every interval (as `vector top`).
import Table from 'cli-table3';
import type { MetricsRow, MetricsView } from '../../schemas/metrics.js';
import { formatCount, formatCounted, formatMs, formatPercent } from './format.js';

export const COLUMNS = ['', 'items in', 'items out', 'bytes in', 'bytes out', 'errors', 'restarts', 'in-flight', 'queue', 'p50', 'p99', 'util'];

function rowName(r: MetricsRow): string {
  if (r.kind === 'store') return `store ${r.name}${r.up ? '' : ' (down)'}`;
  return r.workers > 1 ? `${r.name} x${r.workers}` : r.name;
}

/** The cells of one row, in COLUMNS order. */
export function rowCells(r: MetricsRow): string[] {
  return [
    rowName(r),
    formatCounted(r.itemsIn),
    formatCounted(r.itemsOut),
    formatCounted(r.bytesIn, 'bytes'),
    formatCounted(r.bytesOut, 'bytes'),
    formatCounted(r.errors),
    formatCount(r.restarts.total),
    formatCount(r.inFlight),
    formatCount(r.queueDepth),
    formatMs(r.p50Ms),
    formatMs(r.p99Ms),
    formatPercent(r.utilization),
  ];
}

/** The whole screen: a title line and the table. */
export function renderView(view: MetricsView, endpoint: string): string {
  const table = new Table({ head: COLUMNS, style: { head: [], border: [], compact: true }, colAligns: ['left', ...COLUMNS.slice(1).map(() => 'right' as const)] });
  for (const r of view.rows) table.push(rowCells(r));
  const at = new Date(view.atMs).toISOString().slice(11, 19);
  const title = `pipeline ${view.pipeline}: ${view.state} at ${at} (${endpoint}); store rows: requests in, replies out`;
  return `${title}\n${table.toString()}\n`;
}
