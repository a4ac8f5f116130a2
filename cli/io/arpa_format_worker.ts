// Worker thread half of the parallel ARPA writer: waits for one job (started early so its start-up
// overlaps the estimation), formats the entries it is given and posts the chunks back.
import { parentPort } from 'node:worker_threads';
import { formatEntries, type ArpaTables } from '../../model/arpa_write.js';

export interface ArpaFormatJob {
  tables: ArpaTables;
  /** [order, from, to] ranges to format, in output order. */
  ranges: [number, number, number][];
}

parentPort!.once('message', ({ tables, ranges }: ArpaFormatJob) => {
  const out: Buffer[][] = ranges.map(([k, from, to]) => [...formatEntries(tables, k, from, to)]);
  // The formatted text is moved back, not copied, chunk by chunk where a chunk owns its whole
  // buffer (ByteSink.take's copies do, except small ones from Node's shared pool: those are cloned).
  const buffers = new Set<ArrayBuffer>();
  for (const part of out) for (const chunk of part) if (chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength) buffers.add(chunk.buffer as ArrayBuffer);
  parentPort!.postMessage(out, [...buffers]);
});
