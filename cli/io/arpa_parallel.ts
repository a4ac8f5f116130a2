// Writing ARPA on two threads. Formatting the numbers is most of a build's time and each entry
// formats independently, so each section is cut into blocks, and every other block is formatted
// by a worker thread (arpa_format_worker.ts). This thread writes the file in order: its own
// blocks as it formats them, and between them the worker's, which arrive through a ring of
// shared memory (chunk_ring.ts) as the worker makes them, a few blocks ahead. The model's arrays
// are shared with the worker, not copied (model/shared_arrays.ts), and the text is never held
// whole. The worker is started once counting has shown the model is large enough (start()), so
// its start-up overlaps smoothing. Without it (one thread, or a small model) the text is written
// as it is formatted.
import os from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { ARPA_END, arpaHeader, arpaTables, formatEntries, sectionHeader, type ArpaTables } from '../../model/arpa_write.js';
import type { NgramPaths } from '../../model/corpus_count.js';
import type { LanguageModel } from '../../model/language_model.js';
import { asShared } from '../../model/shared_arrays.js';
import { ByteSink } from '../../model/byte_sink.js';
import { writeFileAtomic } from './atomic_file.js';
import type { ArpaFormatJob, EntryBlock } from './arpa_format_worker.js';
import { ChunkRing, END_OF_BLOCK, FAILED } from './chunk_ring.js';

/**
 * Below this many n-grams the worker's start-up and its own cold code and number cache cost more
 * than the split saves (KJV order 3, 0.54M n-grams, wrote more slowly on two threads; order 5,
 * 1.8M, faster: README, Benchmarks).
 */
export const PARALLEL_MIN_NODES = 1_000_000;
/** This thread's share of the text: it also writes the whole file, so it formats less than half. */
const OWN_SHARE = 0.45;
/** Text in one of this thread's blocks and the worker's next one, together (estimated: entryBytes). */
const PAIR_BYTES = 2 << 20;
/** The worker's chunks, and the ring: 16 slots, so the worker can be a few blocks ahead. */
const CHUNK_BYTES = 256 << 10;
const RING_SLOTS = 16;
const SLOT_BYTES = CHUNK_BYTES + (64 << 10);

/** Sizes of the two-thread path (tests make them small, to run through many blocks and a full ring). */
export interface ParallelSizes {
  pairBytes: number;
  chunkBytes: number;
  ringSlots: number;
  slotBytes: number;
}

const SIZES: ParallelSizes = { pairBytes: PAIR_BYTES, chunkBytes: CHUNK_BYTES, ringSlots: RING_SLOTS, slotBytes: SLOT_BYTES };

/** A block of a section, and whether this thread formats it. */
interface PlannedBlock {
  block: EntryBlock;
  own: boolean;
}

export class ArpaWriter {
  private worker?: Worker;

  /**
   * `startNow`: start the helper thread at once (when the machine has a second core), for a model
   * known to be large; else start() starts it once the model's size is known. `minNodes` is lowered
   * by tests, and by `build --threads` (a thread asked for is used), to run the two-thread path on
   * small models.
   */
  constructor(
    startNow: boolean,
    private readonly minNodes = PARALLEL_MIN_NODES,
    private readonly sizes = SIZES,
  ) {
    if (startNow) this.start();
  }

  /**
   * Starts the helper thread (where there is a second core) for a model of `nodes` n-grams, if
   * that is at least minNodes: called as soon as counting is done, its start-up overlaps smoothing.
   */
  start(nodes = Infinity): void {
    if (this.worker || nodes < this.minNodes || os.availableParallelism() < 2) return;
    this.worker = new Worker(new URL('./arpa_format_worker.js', import.meta.url));
    this.worker.unref();
  }

  /** `paths`: where counting saw the n-grams (NgramPaths), when it has them: faster to format. */
  async write(target: string, lm: LanguageModel, counts: number[], paths?: NgramPaths): Promise<number> {
    const tables = arpaTables(lm, paths);
    const worker = tables.size - 1 >= this.minNodes ? this.worker : undefined;
    if (!worker) {
      // On this thread alone the text goes to the file as it is formatted, through one buffer:
      // 70 MB of fresh memory, faulted in and zeroed by the kernel, cost more than the writes.
      this.close();
      return writeFileAtomic(target, streamed(tables, counts));
    }
    try {
      const { pairBytes, chunkBytes, ringSlots, slotBytes } = this.sizes;
      const plan = planBlocks(tables, pairBytes);
      const ring = ChunkRing.create(ringSlots, slotBytes);
      const { port1: errors, port2 } = new MessageChannel();
      const job: ArpaFormatJob = { tables: sharedTables(tables), blocks: plan.flat().filter((b) => !b.own).map((b) => b.block), ring: ring.memory, chunkBytes, errors: port2 };
      worker.postMessage(job, [port2]);
      try {
        return writeFileAtomic(target, interleaved(tables, counts, plan, ring, errors));
      } finally {
        errors.close();
      }
    } finally {
      this.close();
    }
  }

  /** Stops the helper thread (also when the build fails before writing). */
  close(): void {
    this.worker?.removeAllListeners();
    void this.worker?.terminate();
    this.worker = undefined;
  }
}

/** The tables for the worker: orders 2 and up, on shared memory (with paths it needs no parents and words). */
function sharedTables(t: ArpaTables): ArpaTables {
  const none = new Int32Array(0);
  return {
    ...t,
    parent: t.paths ? none : asShared(t.parent),
    word: t.paths ? none : asShared(t.word),
    nodeOrder: asShared(t.nodeOrder),
    logProb: asShared(t.logProb),
    backoff: asShared(t.backoff),
    unigrams: none,
    paths: t.paths && { ids: asShared(t.paths.ids), end: asShared(t.paths.end) },
  };
}

/** Estimated text of an entry of order k: two numbers, tabs, k words and spaces, a newline. */
const entryBytes = (k: number): number => 22 + 6 * k;

/**
 * Each section of order 2 and up cut into blocks in file order, alternately this thread's
 * (OWN_SHARE of PAIR_BYTES of text) and the worker's (the rest), in one pass over the nodes.
 */
function planBlocks(t: ArpaTables, pairBytes: number): PlannedBlock[][] {
  const { order, nodeOrder, size } = t;
  const plan: PlannedBlock[][] = Array.from({ length: order + 1 }, () => []);
  const start = new Int32Array(order + 1).fill(1);
  const text = new Float64Array(order + 1);
  const own = new Uint8Array(order + 1).fill(1);
  const target = (k: number): number => (own[k] ? OWN_SHARE : 1 - OWN_SHARE) * pairBytes;
  for (let n = 1; n < size; n++) {
    const k = nodeOrder[n]!;
    if (k < 2 || Number.isNaN(t.logProb[n])) continue;
    text[k] += entryBytes(k);
    if (text[k] >= target(k)) {
      plan[k]!.push({ block: [k, start[k]!, n + 1], own: own[k] === 1 });
      start[k] = n + 1;
      text[k] = 0;
      own[k] ^= 1;
    }
  }
  for (let k = 2; k <= order; k++) plan[k]!.push({ block: [k, start[k]!, size], own: own[k] === 1 });
  return plan;
}

/** The whole file: this thread's blocks formatted as they are written, the worker's taken from the ring. */
function* interleaved(tables: ArpaTables, counts: number[], plan: PlannedBlock[][], ring: ChunkRing, errors: MessagePort): Generator<Uint8Array | string> {
  // One buffer for all of this thread's blocks, each chunk written before the next is formatted.
  const sink = new ByteSink(1 << 20, true);
  yield arpaHeader(counts);
  yield sectionHeader(1);
  yield* formatEntries(tables, 1, 0, tables.unigrams.length, { sink });
  for (let k = 2; k <= tables.order; k++) {
    yield sectionHeader(k);
    for (const { block, own } of plan[k]!) {
      if (own) yield* formatEntries(tables, k, block[1], block[2], { sink });
      else yield* fromRing(ring, errors);
    }
  }
  yield ARPA_END;
}

/** The worker's next block, chunk by chunk (each a view of the ring, released once written). */
function* fromRing(ring: ChunkRing, errors: MessagePort): Generator<Uint8Array> {
  for (;;) {
    const got = ring.take();
    if (got === END_OF_BLOCK) {
      ring.release();
      return;
    }
    if (got === FAILED) throw new Error(`the ARPA formatting thread failed: ${workerError(errors)}`);
    if (typeof got === 'number') throw new Error(`the ARPA formatting thread wrote an unknown mark ${got}`);
    yield got;
    ring.release();
  }
}

/** The worker's error message, posted just before its FAILED mark (delivered a moment after). */
function workerError(errors: MessagePort): string {
  for (const until = performance.now() + 2000; performance.now() < until; ) {
    const got = receiveMessageOnPort(errors);
    if (got) return String((got.message as { error: string }).error);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
  }
  return 'no message';
}

/** The whole file, formatted chunk by chunk into one reused buffer (each written before the next). */
function* streamed(tables: ArpaTables, counts: number[]): Generator<Buffer | string> {
  const sink = new ByteSink(1 << 20, true);
  yield arpaHeader(counts);
  for (let k = 1; k <= tables.order; k++) {
    yield sectionHeader(k);
    yield* formatEntries(tables, k, k === 1 ? 0 : 1, k === 1 ? tables.unigrams.length : tables.size, { sink });
  }
  yield ARPA_END;
}
