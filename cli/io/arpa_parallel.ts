// Writing ARPA on two threads. Formatting 3.6M numbers is most of a build's time and each entry
// formats independently, so the upper part of every section's node range goes to a worker
// thread while this thread formats the lower part; the parts are then written in file order.
// The worker is started before estimation begins, so its start-up is off the critical path.
// Without it (one thread, or a small model) the text is written as it is formatted.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { ARPA_END, arpaHeader, arpaTables, formatEntries, sectionHeader, type ArpaTables } from '../../model/arpa_write.js';
import type { NgramPaths } from '../../model/corpus_count.js';
import type { LanguageModel } from '../../model/language_model.js';
import { writeFileAtomic } from './atomic_file.js';
import type { ArpaFormatJob } from './arpa_format_worker.js';

/** Below this many nodes a worker's start-up costs more than it saves. */
const PARALLEL_MIN_NODES = 200_000;
/**
 * Share of node ids this thread formats: higher ids hold more high-order n-grams (longer lines),
 * and the worker also pays for copying the tables, so it gets the smaller part.
 */
const LOWER_SHARE = 0.56;

export class ArpaWriter {
  private worker?: Worker;

  /**
   * Starts the helper thread now when the machine has a second core and the corpus is big.
   * `minNodes` is lowered by tests, and by `build --threads` (a thread asked for is used), to run
   * the two-thread path on small models.
   */
  constructor(
    expectLarge: boolean,
    private readonly minNodes = PARALLEL_MIN_NODES,
  ) {
    if (expectLarge && os.availableParallelism() > 1) {
      this.worker = new Worker(new URL('./arpa_format_worker.js', import.meta.url));
      this.worker.unref();
    }
  }

  /** `paths`: where counting saw the n-grams (NgramPaths), when it has them: faster to format. */
  async write(target: string, lm: LanguageModel, counts: number[], paths?: NgramPaths): Promise<number> {
    const tables = arpaTables(lm, paths);
    const worker = tables.size >= this.minNodes ? this.worker : undefined;
    if (!worker) {
      // On this thread alone the text goes to the file as it is formatted, through one buffer:
      // 70 MB of fresh memory, faulted in and zeroed by the kernel, cost more than the writes.
      this.close();
      return writeFileAtomic(target, streamed(tables, counts));
    }
    const mid = Math.floor(tables.size * LOWER_SHARE);
    // Posting a typed array clones its whole buffer, and the trie's buffers are sized by
    // capacity, not content: trimmed copies halve what crosses to the worker. The worker
    // formats orders 2 and up only, so with paths it needs no parents and words.
    const n = tables.size;
    const none = new Int32Array(0);
    const trimmed: ArpaTables = {
      ...tables,
      parent: paths ? none : tables.parent.slice(0, n),
      word: paths ? none : tables.word.slice(0, n),
      nodeOrder: tables.nodeOrder.slice(0, n),
      logProb: tables.logProb.slice(0, n),
      backoff: tables.backoff.slice(0, n),
      paths: paths && { ids: paths.ids.slice(), end: paths.end.slice(0, n) },
    };
    const job: ArpaFormatJob = { tables: trimmed, ranges: [], arena: Buffer.allocUnsafeSlow(upperBytes(tables, mid)) };
    for (let k = 2; k <= lm.order; k++) job.ranges.push([k, mid, tables.size]);
    const upper = new Promise<Buffer[][]>((resolve, reject) => {
      worker.once('message', (parts: Uint8Array[][]) => resolve(parts.map((p) => p.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)))));
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the ARPA formatting thread exited with code ${code}`)));
    });
    // The trimmed copies are the worker's alone: moved, not cloned a second time.
    const moved = [trimmed.parent, trimmed.word, trimmed.nodeOrder, trimmed.logProb, trimmed.backoff, trimmed.paths?.ids, trimmed.paths?.end, job.arena];
    worker.postMessage(job, moved.flatMap((a) => (a && a.length > 0 ? [a.buffer as ArrayBuffer] : [])));
    const lower: Buffer[][] = [[...formatEntries(tables, 1, 0, tables.unigrams.length)]];
    for (let k = 2; k <= lm.order; k++) lower.push([...formatEntries(tables, k, 1, mid)]);
    const upperParts = await upper;
    this.close();
    function* file(): Generator<Buffer | string> {
      yield arpaHeader(counts);
      for (let k = 1; k <= lm.order; k++) {
        yield sectionHeader(k);
        yield* lower[k - 1];
        if (k >= 2) yield* upperParts[k - 2];
      }
      yield ARPA_END;
    }
    return writeFileAtomic(target, file());
  }

  /** Stops the helper thread (also when the build fails before writing). */
  close(): void {
    this.worker?.removeAllListeners();
    void this.worker?.terminate();
    this.worker = undefined;
  }
}

/** The whole file, formatted chunk by chunk into one reused buffer (each written before the next). */
function* streamed(tables: ArpaTables, counts: number[]): Generator<Buffer | string> {
  yield arpaHeader(counts);
  for (let k = 1; k <= tables.order; k++) {
    yield sectionHeader(k);
    yield* formatEntries(tables, k, k === 1 ? 0 : 1, k === 1 ? tables.unigrams.length : tables.size, { reuse: true });
  }
  yield ARPA_END;
}

/**
 * Bytes to reserve for the entries of nodes [mid, size): more than they take (a log-prob and a
 * backoff of at most 14 bytes each, words of 8 bytes on average), since what is never written is
 * never faulted in, and the sink goes on in buffers of its own if the estimate falls short.
 */
function upperBytes(tables: ArpaTables, mid: number): number {
  let bytes = 0;
  for (let n = mid; n < tables.size; n++) bytes += 32 + 9 * tables.nodeOrder[n];
  return bytes;
}
