// ARPA text input, strict about structure so that a damaged file fails at the line that is wrong
// rather than scoring garbage: the \data\ header, each \k-grams: section with exactly the count
// the header promised, well-formed numbers and word counts, and \end\.
import { InputError } from './errors.js';
import { indexUnigrams, type LanguageModel } from './language_model.js';
import { NgramTrie, ROOT } from './ngram_trie.js';
import { UNK, Vocab } from './vocab.js';

export interface ArpaReadOptions {
  /** Called with (linesRead, totalEntries) now and then on long files. */
  onProgress?: (done: number, total: number) => void;
  warn?: (message: string) => void;
}

class LineReader {
  pos = 0;
  line = 0;
  constructor(
    readonly text: string,
    readonly file: string,
  ) {}

  next(): string | undefined {
    if (this.pos >= this.text.length) return undefined;
    let end = this.text.indexOf('\n', this.pos);
    if (end < 0) end = this.text.length;
    let s = this.text.slice(this.pos, end);
    if (s.endsWith('\r')) s = s.slice(0, -1);
    this.pos = end + 1;
    this.line++;
    return s;
  }

  /** The next line that is not blank. */
  nextContent(): string | undefined {
    for (let s = this.next(); s !== undefined; s = this.next()) if (s.trim() !== '') return s;
    return undefined;
  }

  fail(message: string, hint?: string): never {
    throw new InputError(message, this.file, this.line, hint ?? 'the ARPA file is damaged; rebuild it or check how it was written');
  }
}

function parseNumber(s: string, r: LineReader, what: string): number {
  const v = Number(s);
  if (s.trim() === '' || !Number.isFinite(v)) r.fail(`malformed ARPA entry: ${what} "${s}" is not a number`);
  return v;
}

export function readArpa(text: string, file: string, options: ArpaReadOptions = {}): LanguageModel {
  const r: LineReader = new LineReader(text, file);
  let s = r.nextContent();
  while (s !== undefined && s.trim() !== '\\data\\') s = r.nextContent();
  if (s === undefined) r.fail('missing \\data\\ header: this is not an ARPA file', 'pass an ARPA language model, e.g. one written by `dbslm build`');

  const declared: number[] = [0];
  for (s = r.nextContent(); s !== undefined && s.startsWith('ngram '); s = r.nextContent()) {
    const m = /^ngram\s+(\d+)\s*=\s*(\d+)\s*$/.exec(s);
    if (!m) r.fail(`malformed header line "${s}" (expected "ngram K=COUNT")`);
    const k = Number(m[1]);
    if (k !== declared.length) r.fail(`header lists order ${k} where order ${declared.length} was expected`);
    declared.push(Number(m[2]));
  }
  const order = declared.length - 1;
  if (order < 1) r.fail('the \\data\\ header declares no n-gram counts');
  const total = declared.reduce((a, b) => a + b, 0);

  const vocab = new Vocab();
  const trie = new NgramTrie(total + 16);
  let logProb = new Float64Array(trie.capacity).fill(Number.NaN);
  let backoff = new Float64Array(trie.capacity);
  const ensure = (): void => {
    if (trie.capacity === logProb.length) return;
    const lp = new Float64Array(trie.capacity).fill(Number.NaN);
    lp.set(logProb);
    const bo = new Float64Array(trie.capacity);
    bo.set(backoff);
    logProb = lp;
    backoff = bo;
  };
  const ids: number[] = [];
  let done = 0;
  for (let k = 1; k <= order; k++) {
    if (s === undefined) r.fail(`missing section \\${k}-grams: (the header declares ${declared[k]} entries)`);
    if (s.trim() !== `\\${k}-grams:`) r.fail(`expected section header \\${k}-grams: but found "${s}"`);
    let seen = 0;
    for (s = r.nextContent(); s !== undefined && !s.startsWith('\\'); s = r.nextContent()) {
      seen++;
      let fields = s.split('\t');
      if (fields.length < 2 || fields.length > 3) {
        const parts = s.trim().split(/\s+/);
        fields = [parts[0], parts.slice(1, 1 + k).join(' '), ...parts.slice(1 + k)];
      }
      const words = fields[1].trim().split(/\s+/);
      if (words.length !== k || words[0] === '') r.fail(`malformed ARPA entry: a ${k}-gram entry has ${words.length} words: "${s}"`);
      if (fields.length > 3 || (fields.length === 3 && k === order)) r.fail(`malformed ARPA entry: too many fields: "${s}"`);
      const lp = parseNumber(fields[0], r, 'log10 probability');
      const bo = fields.length === 3 ? parseNumber(fields[2], r, 'backoff') : 0;
      ids.length = 0;
      for (const w of words) ids.push(vocab.intern(w));
      let node = ROOT;
      for (let i = 0; i < k; i++) {
        let child = trie.find(node, ids[i]);
        if (child < 0) {
          // A prefix the file does not list: stored blank (NaN) so lookups can pass through it.
          child = -trie.findOrInsert(node, ids[i], i === 0 ? ROOT : -1) - 1;
          ensure();
        } else if (i === k - 1 && !Number.isNaN(logProb[child])) {
          r.fail(`duplicate ARPA entry "${words.join(' ')}"`);
        }
        node = child;
      }
      if (k > 1) trie.suffix[node] = trie.findPath(ids.slice(1));
      logProb[node] = lp;
      backoff[node] = bo;
      if (options.onProgress && (++done & 0x3ffff) === 0) options.onProgress(done, total);
    }
    if (seen !== declared[k]) {
      r.fail(`section \\${k}-grams: has ${seen} entries but the \\data\\ header declares ${declared[k]}`);
    }
  }
  if (s === undefined || s.trim() !== '\\end\\') r.fail(s === undefined ? 'missing \\end\\ at the end of the file (truncated?)' : `expected \\end\\ but found "${s}"`);
  const unk = trie.find(ROOT, UNK);
  if (unk < 0 || Number.isNaN(logProb[unk])) {
    options.warn?.(`${file}: the model has no <unk>; unknown words get log10 p = -100, as KenLM substitutes`);
    const n = unk >= 0 ? unk : -trie.findOrInsert(ROOT, UNK, ROOT) - 1;
    ensure();
    logProb[n] = -100;
  }
  return { order, vocab, trie, logProb, backoff, unigramNode: indexUnigrams(trie, vocab) };
}
