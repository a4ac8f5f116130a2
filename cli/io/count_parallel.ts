// Counting on a second thread (build --threads 2 and more): this thread reads and tokenizes the
// corpus a piece at a time, which must stay on one thread to number the vocabulary in order of
// first appearance, and posts each piece's ids to a worker that counts them as they come, so
// reading and counting overlap. The worker counts exactly as countNgrams does (one trie, pieces of
// whole records in corpus order, as the memory-bounded build counts too), so the counts, node ids
// included, are the same. The worker starts when the build does, so its start-up overlaps reading.
import { Worker } from 'node:worker_threads';
import type { NgramCounts } from '../../model/corpus_count.js';
import { NgramTrie } from '../../model/ngram_trie.js';
import type { CountMessage, CountResult } from './count_worker.js';

export class CountingThread {
  private worker?: Worker;
  private failure?: Error;

  constructor() {
    this.worker = new Worker(new URL('./count_worker.js', import.meta.url));
    this.worker.unref();
    this.worker.once('error', (e) => (this.failure = e));
  }

  /** Starts counting at `order`; `expectedIds` sizes the table (it grows as needed). */
  start(order: number, expectedIds: number): void {
    this.post({ start: { order, expectedIds } });
  }

  /** Counts these ids (whole records, after those given before); they are copied, so the array may be reused. */
  add(ids: Int32Array): void {
    const copy = ids.slice();
    this.post({ ids: copy }, [copy.buffer]);
  }

  /** The counts of every piece added. */
  finish(order: number): Promise<NgramCounts> {
    const worker = this.worker!;
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      worker.once('message', ({ trie, raw, cont, ids, length, end }: CountResult) => {
        this.close();
        resolve({ order, trie: NgramTrie.fromParts(trie), raw, cont, paths: { ids: ids.subarray(0, length), end } });
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the counting thread exited with code ${code}`)));
      worker.ref(); // awaited now: the process must not end before its answer
      this.post({ end: true });
    });
  }

  /** Stops the worker (also when the build fails before counting ends). */
  close(): void {
    this.worker?.removeAllListeners();
    void this.worker?.terminate();
    this.worker = undefined;
  }

  private post(m: CountMessage, transfer: ArrayBuffer[] = []): void {
    this.worker!.postMessage(m, transfer);
  }
}
