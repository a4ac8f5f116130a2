// Worker thread half of the parallel ARPA writer (arpa_parallel.ts): waits for one job (it is
// started early, so its start-up overlaps the estimation), formats its blocks of entries in file
// order and puts each block's text into the shared ring the writer takes it from, ending each
// block with a mark. The model's arrays arrive shared, not copied (model/shared_arrays.ts).
import { parentPort, type MessagePort } from 'node:worker_threads';
import { formatEntries, type ArpaTables } from '../../model/arpa_write.js';
import { ByteSink } from '../../model/byte_sink.js';
import { ChunkRing, END_OF_BLOCK, FAILED, type RingMemory } from './chunk_ring.js';

/** A block: the entries of order k whose node ids lie in [from, to). */
export type EntryBlock = [k: number, from: number, to: number];

export interface ArpaFormatJob {
  tables: ArpaTables;
  /** This thread's blocks, in file order. */
  blocks: EntryBlock[];
  ring: RingMemory;
  /** Roughly the size of the chunks a block's text is formatted in. */
  chunkBytes: number;
  /** Where an error's message goes, before the FAILED mark (the writer is not on its event loop then). */
  errors: MessagePort;
}

parentPort!.once('message', ({ tables, blocks, ring: memory, chunkBytes, errors }: ArpaFormatJob) => {
  const ring = new ChunkRing(memory);
  // One reused buffer for every block: each chunk is copied into the ring before the next is formatted.
  const sink = new ByteSink(chunkBytes, true);
  try {
    for (const [k, from, to] of blocks) {
      for (const chunk of formatEntries(tables, k, from, to, { sink })) ring.put(chunk);
      ring.mark(END_OF_BLOCK);
    }
  } catch (err) {
    errors.postMessage({ error: (err as Error).stack ?? String(err) });
    ring.mark(FAILED);
  }
});
