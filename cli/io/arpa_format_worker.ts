// Worker thread half of the parallel ARPA writer: waits for one job (started early so its start-up
// overlaps the estimation), formats the entries it is given and posts the chunks back.
import { parentPort } from 'node:worker_threads';
import { formatEntries, type ArpaTables } from '../../model/arpa_write.js';

export interface ArpaFormatJob {
  tables: ArpaTables;
  /** [order, from, to] ranges to format, in output order. */
  ranges: [number, number, number][];
  /** Memory to format into, allocated by the main thread (byte_sink.ts ByteArena says why). */
  arena: Uint8Array;
}

parentPort!.once('message', ({ tables, ranges, arena }: ArpaFormatJob) => {
  const memory = { bytes: Buffer.from(arena.buffer, arena.byteOffset, arena.byteLength), used: 0 };
  const out: Buffer[][] = ranges.map(([k, from, to]) => [...formatEntries(tables, k, from, to, { arena: memory })]);
  // The formatted text is moved back, not copied: the chunks view the arena or buffers of their own.
  parentPort!.postMessage(out, [...new Set(out.flat().map((chunk) => chunk.buffer as ArrayBuffer))]);
});
