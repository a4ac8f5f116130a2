// A worker thread for test/chunk_ring.test.ts: puts the chunks it is given into a shared ring
// (cli/io/chunk_ring.ts), each block ended by a mark, then a FAILED mark when asked to fail.
import { workerData } from 'node:worker_threads';
import { ChunkRing, END_OF_BLOCK, FAILED, type RingMemory } from '../../cli/io/chunk_ring.js';

const { memory, blocks, fail } = workerData as { memory: RingMemory; blocks: number[][]; fail: boolean };
const ring = new ChunkRing(memory);
for (const sizes of blocks) {
  for (const size of sizes) ring.put(Uint8Array.from({ length: size }, (_, i) => (size + i) & 0xff));
  ring.mark(END_OF_BLOCK);
}
if (fail) ring.mark(FAILED);
