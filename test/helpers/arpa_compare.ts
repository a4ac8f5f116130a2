// ARPA files compared the way a model in the store must reproduce them: the same header and,
// section by section, the same lines (byte for byte), in the canonical order `dbslm export` writes.
import fs from 'node:fs';
import zlib from 'node:zlib';
import type { ExecutionContext } from 'ava';

export interface ArpaSections {
  header: string[];
  /** sections[k - 1]: the entry lines of the k-grams, in file order. */
  sections: string[][];
}

export function readArpaSections(file: string): ArpaSections {
  const raw = fs.readFileSync(file);
  const text = (file.endsWith('.gz') ? zlib.gunzipSync(raw) : raw).toString('utf8');
  const out: ArpaSections = { header: [], sections: [] };
  let current = out.header;
  for (const line of text.split('\n')) {
    if (line === '' || line === '\\end\\') continue;
    const m = /^\\(\d+)-grams:$/.exec(line);
    if (m) out.sections[Number(m[1]) - 1] = current = [];
    else current.push(line);
  }
  return out;
}

/** The same header and, per order, the same set of lines. */
export function assertSameLines(t: ExecutionContext, got: ArpaSections, want: ArpaSections): void {
  t.deepEqual(got.header, want.header, 'header');
  t.is(got.sections.length, want.sections.length, 'orders');
  want.sections.forEach((lines, i) => {
    const have = new Set(got.sections[i]);
    const missing = lines.filter((l) => !have.has(l));
    t.is(got.sections[i]!.length, lines.length, `${i + 1}-grams: entries`);
    t.deepEqual(missing.slice(0, 5), [], `${i + 1}-grams: lines missing from the export (${missing.length})`);
  });
}

/** Unigrams in the order `unigramOrder` gives (vocabulary ids); each higher order sorted by its word-id tuple. */
export function assertCanonical(t: ExecutionContext, got: ArpaSections, unigramOrder: string[]): void {
  const words = (line: string) => line.split('\t')[1]!.split(' ');
  t.deepEqual(got.sections[0]!.map((l) => words(l)[0]), unigramOrder, 'unigrams in vocabulary-id order');
  const id = new Map(unigramOrder.map((w, i) => [w, i]));
  for (let k = 2; k <= got.sections.length; k++) {
    const tuples = got.sections[k - 1]!.map((l) => words(l).map((w) => id.get(w)!));
    const outOfOrder = tuples.findIndex((x, i) => i > 0 && compareTuples(tuples[i - 1]!, x) >= 0);
    t.is(outOfOrder, -1, `${k}-grams sorted by word-id tuple (first out of order: line ${outOfOrder} ${got.sections[k - 1]![outOfOrder]})`);
  }
}

function compareTuples(x: number[], y: number[]): number {
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}
