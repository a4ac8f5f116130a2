// Memory-bounded counting (lmplz -S): when the counting table would pass its budget, its n-grams
// are written to a temporary file as one run, sorted by (order, words), and counting goes on with
// an empty table; at the end the runs are merged, summing the counts of equal n-grams.
//
// The merged n-grams are then inserted into one trie in the order the unbounded count would have
// created them (first occurrence in the corpus, shorter first at one position). A run keeps each
// n-gram's node id, which is that order within the run, and runs cover the corpus in order, so
// (run, node id) of an n-gram's first run is its global creation order. Node ids, raw counts and
// continuation counts then equal countNgrams' exactly, and so does every later step of the build.
//
// Only counting is bounded, and reading when the corpus comes in pieces (cli/io/input_chunks.ts):
// the model itself (its distinct n-grams) stays in memory, as the estimation after counting needs it.
import fs from 'node:fs';
import path from 'node:path';
import { countInto, type NgramCounts } from './corpus_count.js';
import { NgramTrie, ROOT } from './ngram_trie.js';

/**
 * Bytes of counting memory per node at a spill: hash slots (16 bytes, at most half full: 32),
 * parent/word/suffix/order (13), continuation counts (8), and the raw counts read out to write
 * the run (8).
 */
export const COUNT_BYTES_PER_NODE = 61;
const RUN_READ_RECORDS = 1 << 14;
const TWO32 = 2 ** 32;

export interface BoundedCountOptions {
  budgetBytes: number;
  /** An existing directory for the runs; each is unlinked once written and read by descriptor. */
  tempDir: string;
  /** Called after each run is written (tests check that runs reached the disk). */
  onRun?: (file: string, records: number) => void;
}

export interface BoundedCounts extends NgramCounts {
  /** Runs written to disk: 0 when counting fit the budget. */
  runs: number;
}

/** The table size (a power of two, as the trie grows by doubling) that fits the budget. */
export function nodesForBudget(budgetBytes: number): number {
  let nodes = 1 << 10;
  while (nodes * 2 * COUNT_BYTES_PER_NODE <= budgetBytes) nodes *= 2;
  return nodes;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Counts as countNgrams does, within the budget, from the corpus ids in pieces (each whole
 * records, in corpus order: one piece is the whole corpus held in memory, several are a corpus
 * read a piece at a time, which the budget then need not hold). Pieces may come from an async
 * source; it also yields between runs, so that a SIGINT or SIGTERM handler (cli/io/temp_dir.ts)
 * can run and remove the runs promptly.
 */
export async function countNgramsBounded(pieces: Iterable<Int32Array> | AsyncIterable<Int32Array>, order: number, options: BoundedCountOptions): Promise<BoundedCounts> {
  const capacity = nodesForBudget(options.budgetBytes);
  // Spill before the table's next doubling, keeping room for the sentence that crosses the mark.
  const spillAt = capacity - (capacity >> 4);
  // Sized by the first piece: a small corpus gets a small table.
  const newTrie = (hint: number) => new NgramTrie(Math.min(hint * order, capacity, 1 << 21));
  let trie: NgramTrie | undefined;
  let cont: Float64Array = new Float64Array(0);
  const runs: number[] = [];
  const spill = async (full: NgramTrie): Promise<void> => {
    const file = path.join(options.tempDir, `run-${runs.length}.bin`);
    const fd = fs.openSync(file, 'w+');
    runs.push(fd);
    const records = writeRun(full, order, fd);
    options.onRun?.(file, records);
    // Unlinked once written: the open descriptor keeps it readable for the merge, and the
    // system frees it whenever this process ends, even by SIGKILL.
    fs.rmSync(file, { force: true });
    await yieldToEventLoop();
  };
  try {
    for await (const ids of pieces) {
      if (!trie) {
        trie = newTrie(ids.length);
        cont = new Float64Array(trie.capacity);
      }
      for (let from = 0; ; ) {
        const counted = countInto(trie, ids, from, order, spillAt, undefined, cont);
        cont = counted.cont;
        if (counted.end === ids.length) break;
        await spill(trie);
        trie = newTrie(ids.length);
        cont = new Float64Array(trie.capacity);
        from = counted.end;
      }
    }
    trie ??= newTrie(0);
    if (runs.length === 0) {
      cont[ROOT] = 0;
      return { order, trie, raw: trie.slotCounts(), cont, runs: 0 };
    }
    await spill(trie);
    return { ...(await mergeRuns(runs, order)), runs: runs.length };
  } finally {
    for (const fd of runs) fs.closeSync(fd);
  }
}

/** Writes every node of `trie` as a record [k, w1..wN, count, node] sorted by (k, w1..wk). */
function writeRun(trie: NgramTrie, order: number, fd: number): number {
  const width = order + 3;
  const counts = trie.slotCounts();
  const rank = new Int32Array(trie.size);
  const out = new Int32Array(RUN_READ_RECORDS * width);
  let used = 0;
  let words = 1;
  for (let n = 1; n < trie.size; n++) if (trie.word[n] >= words) words = trie.word[n] + 1;
  // Nodes grouped by order (a counting sort), so each order is one dense pass.
  const start = new Int32Array(order + 2);
  for (let n = 1; n < trie.size; n++) start[trie.order[n] + 1]++;
  for (let k = 1; k <= order; k++) start[k + 1] += start[k];
  const byOrder = new Int32Array(trie.size);
  const fill = start.slice();
  for (let n = 1; n < trie.size; n++) byOrder[fill[trie.order[n]]++] = n;
  let rankToNode = Int32Array.of(ROOT);
  for (let k = 1; k <= order; k++) {
    // Sorting (rank of the parent, word) orders each order's n-grams by their words, since
    // parents were ranked the same way one order down.
    // (parent rank * words + word stays below 2^53, exact in a double, for any table in memory.)
    const sorted = new Float64Array(start[k + 1] - start[k]);
    for (let i = start[k]; i < start[k + 1]; i++) {
      const n = byOrder[i];
      sorted[i - start[k]] = rank[trie.parent[n]] * words + trie.word[n];
    }
    sorted.sort();
    const next = new Int32Array(sorted.length);
    for (let i = 0; i < sorted.length; i++) {
      const parentRank = Math.floor(sorted[i] / words);
      const node = trie.find(rankToNode[parentRank], sorted[i] - parentRank * words);
      rank[node] = i;
      next[i] = node;
      const at = used * width;
      out[at] = k;
      for (let j = k, m = node; j >= 1; j--, m = trie.parent[m]) out[at + j] = trie.word[m];
      for (let j = k + 1; j <= order; j++) out[at + j] = 0;
      out[at + order + 1] = counts[node];
      out[at + order + 2] = node;
      if (++used === RUN_READ_RECORDS) {
        fs.writeSync(fd, new Uint8Array(out.buffer, 0, used * width * 4));
        used = 0;
      }
    }
    rankToNode = next;
  }
  if (used > 0) fs.writeSync(fd, new Uint8Array(out.buffer, 0, used * width * 4));
  return trie.size - 1;
}

/** Sequential reader of one run's records, a block at a time. */
class RunReader {
  private readonly block: Int32Array;
  private offset = 0;
  private records = 0;
  private index = 0;
  /** Offset of the current record in `block`, or -1 at the end. */
  at = -1;

  constructor(
    private readonly fd: number,
    readonly run: number,
    readonly width: number,
  ) {
    this.block = new Int32Array(RUN_READ_RECORDS * width);
    this.advance();
  }

  get data(): Int32Array {
    return this.block;
  }

  advance(): void {
    if (++this.index >= this.records) {
      const bytes = fs.readSync(this.fd, new Uint8Array(this.block.buffer), 0, this.block.byteLength, this.offset);
      this.offset += bytes;
      this.records = bytes / (this.width * 4);
      this.index = 0;
      if (this.records === 0) {
        this.at = -1;
        return;
      }
    }
    this.at = this.index * this.width;
  }
}

/** Order of two records: by n-gram order, then by words. */
function compare(a: RunReader, b: RunReader): number {
  const x = a.data;
  const y = b.data;
  const k = x[a.at];
  if (k !== y[b.at]) return k - y[b.at];
  for (let j = 1; j <= k; j++) if (x[a.at + j] !== y[b.at + j]) return x[a.at + j] - y[b.at + j];
  return a.run - b.run;
}

/** Merges the runs (open descriptors, in corpus order) and rebuilds the counts in creation order. */
async function mergeRuns(runs: number[], order: number): Promise<NgramCounts> {
  const width = order + 3;
  const heap = runs.map((fd, i) => new RunReader(fd, i, width)).filter((r) => r.at >= 0);
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && compare(heap[l], heap[m]) < 0) m = l;
      if (r < heap.length && compare(heap[r], heap[m]) < 0) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);

  // Merged n-grams: keys[r * stride] = order k, then its k words; its count; its first position.
  const stride = order + 1;
  let keys: Int32Array = new Int32Array(stride << 14);
  let counts: Float64Array = new Float64Array(1 << 14);
  let firsts: Float64Array = new Float64Array(1 << 14);
  let m = 0;
  while (heap.length > 0) {
    const top = heap[0];
    const d = top.data;
    const at = top.at;
    const k = d[at];
    const last = (m - 1) * stride;
    let same = m > 0 && keys[last] === k;
    for (let j = 1; same && j <= k; j++) same = keys[last + j] === d[at + j];
    if (same) {
      // Equal records come lowest run first, so the first one kept holds the first occurrence.
      counts[m - 1] += d[at + order + 1];
    } else {
      if (m === counts.length) {
        counts = grow64(counts, m * 2);
        firsts = grow64(firsts, m * 2);
        const bigger = new Int32Array(m * 2 * stride);
        bigger.set(keys);
        keys = bigger;
      }
      for (let j = 0; j <= k; j++) keys[m * stride + j] = d[at + j];
      counts[m] = d[at + order + 1];
      firsts[m] = top.run * TWO32 + d[at + order + 2];
      m++;
    }
    top.advance();
    if (top.at < 0) {
      heap[0] = heap[heap.length - 1];
      heap.pop();
    }
    if (heap.length > 0) down(0);
    if ((m & 0xfffff) === 0 && !same) await yieldToEventLoop();
  }
  return rebuild(keys, counts, firsts, m, order);
}

function grow64(a: Float64Array, size: number): Float64Array {
  const b = new Float64Array(size);
  b.set(a);
  return b;
}

/**
 * The trie of the merged n-grams, nodes created in order of first occurrence (as countNgrams
 * creates them), with raw counts in the slots and continuation counts bumped on creation.
 */
function rebuild(keys: Int32Array, counts: Float64Array, firsts: Float64Array, m: number, order: number): NgramCounts {
  const stride = order + 1;
  // First positions are distinct: sort them, and a record's rank is where its position lands.
  const sorted = firsts.slice(0, m).sort();
  const byRank = new Int32Array(m);
  for (let r = 0; r < m; r++) {
    let lo = 0;
    let hi = m - 1;
    const f = firsts[r];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] < f) lo = mid + 1;
      else hi = mid;
    }
    byRank[lo] = r;
  }
  // Each record's parent record (its first k - 1 words, one order down): records are sorted by
  // (order, words), so a pointer into the order below only moves forward.
  const parentOf = new Int32Array(m).fill(-1);
  const orderStart = new Int32Array(order + 2).fill(m);
  for (let r = m - 1; r >= 0; r--) orderStart[keys[r * stride]] = r;
  for (let k = order; k >= 1; k--) if (orderStart[k] > orderStart[k + 1]) orderStart[k] = orderStart[k + 1];
  for (let k = 2; k <= order; k++) {
    let p = orderStart[k - 1];
    for (let r = orderStart[k]; r < orderStart[k + 1]; r++) {
      for (;;) {
        let j = 1;
        while (j < k && keys[p * stride + j] === keys[r * stride + j]) j++;
        if (j === k) break;
        p++;
      }
      parentOf[r] = p;
    }
  }
  const trie = new NgramTrie(m + 3);
  const nodeOf = new Int32Array(m);
  const cont = new Float64Array(trie.capacity);
  for (let i = 0; i < m; i++) {
    const r = byRank[i];
    const at = r * stride;
    const k = keys[at];
    const word = keys[at + k];
    const parent = k === 1 ? ROOT : nodeOf[parentOf[r]];
    // The suffix of "h w" is the suffix of h extended by w, created earlier in the corpus.
    const suffix = k === 1 ? ROOT : trie.find(trie.suffix[parent], word);
    nodeOf[r] = -trie.addCount(k, parent, word, suffix, counts[r]) - 1;
    cont[suffix]++;
  }
  cont[ROOT] = 0;
  return { order, trie, raw: trie.slotCounts(), cont };
}
