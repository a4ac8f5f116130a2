// The shared ring between the ARPA formatting thread and the writer (cli/io/chunk_ring.ts), with a
// real worker thread: every byte arrives in order, chunks larger than a slot span several, block
// marks come where they were put, the producer waits for room in a ring smaller than what it puts,
// and a FAILED mark reaches the consumer.
import test from 'ava';
import { Worker } from 'node:worker_threads';
import { ChunkRing, END_OF_BLOCK, FAILED } from '../cli/io/chunk_ring.js';

function consume(ring: ChunkRing): (number[] | 'end' | 'failed')[] {
  const got: (number[] | 'end' | 'failed')[] = [];
  let bytes: number[] = [];
  for (;;) {
    const slot = ring.take();
    if (slot === FAILED) {
      got.push('failed');
      return got;
    }
    if (slot === END_OF_BLOCK) {
      got.push(bytes, 'end');
      bytes = [];
    } else if (typeof slot !== 'number') bytes.push(...slot);
    ring.release();
  }
}

test('chunks of any size cross the ring in order, blocks keep their ends, and a failure is seen', async (t) => {
  const ring = ChunkRing.create(3, 100);
  const blocks = [[10, 250, 1], [0], [999, 100, 101]];
  const worker = new Worker(new URL('./helpers/ring_producer.js', import.meta.url), { workerData: { memory: ring.memory, blocks, fail: true } });
  const got = consume(ring);
  const expected: (number[] | 'end' | 'failed')[] = [];
  for (const sizes of blocks) expected.push(sizes.flatMap((size) => Array.from({ length: size }, (_, i) => (size + i) & 0xff)), 'end');
  expected.push('failed');
  t.deepEqual(got, expected);
  await new Promise((resolve) => worker.once('exit', resolve));
});
