// OrderRuns (store/model/ngram_runs.ts), the export's sort, without a store: seeded random records
// come back in word-id tuple order with their values, from memory and from run files on disk
// (merged), for a small vocabulary (one counting pass per word) and a large one (two 16-bit passes).
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { seededRandom } from '../model/sample.js';
import { OrderRuns } from '../store/model/ngram_runs.js';
import { tempDir } from './helpers/temp_dir.js';

const CASES = [
  { k: 3, vocabSize: 50, capacity: 100000, runs: 0 },
  { k: 3, vocabSize: 50, capacity: 997, runs: 11 },
  { k: 4, vocabSize: 3_000_000, capacity: 100000, runs: 0 },
  { k: 4, vocabSize: 3_000_000, capacity: 1500, runs: 6 },
  { k: 1, vocabSize: 70000, capacity: 4000, runs: 2 },
];

for (const { k, vocabSize, capacity, runs } of CASES) {
  test(`k=${k}, vocabulary ${vocabSize}, ${capacity} records in memory: sorted by tuple, values kept, ${runs} run files`, (t) => {
    const dir = tempDir('dbslm-runs-');
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    const random = seededRandom(k * 7 + capacity);
    const n = k === 1 ? 10000 : 10000 + (capacity % 1000);
    // Distinct tuples (the store has no duplicate keys); ids skewed small so tuples share prefixes.
    const seen = new Set<string>();
    const tuples: number[][] = [];
    while (tuples.length < n) {
      const ids = Array.from({ length: k }, () => Math.floor(vocabSize * random() ** 3));
      const name = ids.join(' ');
      if (seen.has(name)) continue;
      seen.add(name);
      tuples.push(ids);
    }
    const records = new OrderRuns(k, capacity, vocabSize, () => dir);
    const ids = new Uint32Array(k);
    tuples.forEach((tuple, i) => {
      ids.set(tuple);
      records.add(ids, 0, -i / 7, i / 3);
    });
    t.is(records.spilled, runs);
    t.is(fs.readdirSync(dir).length, runs);

    const want = tuples.map((tuple, i) => ({ tuple, i })).sort((a, b) => {
      for (let j = 0; j < k; j++) if (a.tuple[j] !== b.tuple[j]) return a.tuple[j]! - b.tuple[j]!;
      return 0;
    });
    const c = records.sorted();
    let at = 0;
    let wrong = 0;
    while (c.next()) {
      const w = want[at++];
      const got = Array.from(c.u32.subarray(c.at, c.at + k));
      if (!w || got.join(' ') !== w.tuple.join(' ') || c.f32[c.at + k] !== Math.fround(-w.i / 7) || c.f32[c.at + k + 1] !== Math.fround(w.i / 3)) wrong++;
    }
    t.is(at, n, 'every record once');
    t.is(wrong, 0, 'each in tuple order with its own values');
  });
}
