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
  parentPort!.postMessage(out);
});
