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
  /** The model order, once the header is read (for messages about the highest order). */
  order = 0;
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

interface Entry {
  prob: string;
  /** The words, single-space separated. */
  gram: string;
  backoff?: string;
}

/** Splits "prob<TAB>w1 w2<TAB>backoff" (KenLM, SRILM) or the same with any blanks between fields. */
function splitEntry(line: string, k: number, r: LineReader): Entry {
  const t1 = line.indexOf('\t');
  const t2 = t1 < 0 ? -1 : line.indexOf('\t', t1 + 1);
  let entry: Entry;
  if (t1 >= 0 && line.indexOf('\t', t2 + 1) < 0 && (t2 < 0 || line.indexOf(' ', t2) < 0)) {
    const gram = t2 < 0 ? line.slice(t1 + 1) : line.slice(t1 + 1, t2);
    entry = { prob: line.slice(0, t1), gram: gram.includes('  ') || gram.includes('\t') ? gram.trim().split(/\s+/).join(' ') : gram.trim() };
    if (t2 >= 0) entry.backoff = line.slice(t2 + 1);
  } else {
    const parts = line.trim().split(/\s+/);
    if (parts.length < 1 + k) r.fail(`malformed ARPA entry: a ${k}-gram entry has ${parts.length - 1} words: "${line}"`);
    entry = { prob: parts[0], gram: parts.slice(1, 1 + k).join(' ') };
    if (parts.length === k + 2) entry.backoff = parts[k + 1];
    else if (parts.length > k + 2) r.fail(`malformed ARPA entry: too many fields: "${line}"`);
  }
  let words = 1;
  for (let i = entry.gram.indexOf(' '); i >= 0; i = entry.gram.indexOf(' ', i + 1)) words++;
  if (words !== k || entry.gram === '') r.fail(`malformed ARPA entry: a ${k}-gram entry has ${entry.gram === '' ? 0 : words} words: "${line}"`);
  if (entry.backoff !== undefined && r.order === k) r.fail(`malformed ARPA entry: a highest-order entry has a backoff: "${line}"`);
  return entry;
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
  r.order = order;
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
  // The parent of consecutive entries is often the same (files sorted by context), so the last
  // prefix text and its node are kept and reused.
  let lastPrefix = '';
  let lastParent = ROOT;
  /** The node of a space-separated prefix, creating blank (NaN) nodes for prefixes not listed. */
  const insertPath = (prefix: string): number => {
    let node = ROOT;
    let from = 0;
    for (;;) {
      const sp = prefix.indexOf(' ', from);
      const w = vocab.intern(sp < 0 ? prefix.slice(from) : prefix.slice(from, sp));
      let child = trie.find(node, w);
      if (child < 0) {
        child = -trie.findOrInsert(node, w, -1) - 1;
        ensure();
      }
      node = child;
      if (sp < 0) return node;
      from = sp + 1;
    }
  };
  let done = 0;
  for (let k = 1; k <= order; k++) {
    if (s === undefined) r.fail(`missing section \\${k}-grams: (the header declares ${declared[k]} entries)`);
    if (s.trim() !== `\\${k}-grams:`) r.fail(`expected section header \\${k}-grams: but found "${s}"`);
    let seen = 0;
    lastPrefix = '';
    lastParent = ROOT;
    for (s = r.nextContent(); s !== undefined && s.charCodeAt(0) !== 92; s = r.nextContent()) {
      seen++;
      const entry = splitEntry(s, k, r);
      let parent = ROOT;
      if (k > 1) {
        const cut = entry.gram.lastIndexOf(' ');
        const prefix = entry.gram.slice(0, cut);
        if (prefix === lastPrefix) parent = lastParent;
        else {
          parent = insertPath(prefix);
          lastPrefix = prefix;
          lastParent = parent;
        }
      }
      const last = k > 1 ? entry.gram.slice(entry.gram.lastIndexOf(' ') + 1) : entry.gram;
      let node = trie.find(parent, vocab.intern(last));
      if (node < 0) {
        node = -trie.findOrInsert(parent, vocab.intern(last), -1) - 1;
        ensure();
      } else if (!Number.isNaN(logProb[node])) {
        r.fail(`duplicate ARPA entry "${entry.gram}"`);
      }
      logProb[node] = parseNumber(entry.prob, r, 'log10 probability');
      backoff[node] = entry.backoff === undefined ? 0 : parseNumber(entry.backoff, r, 'backoff');
      if (options.onProgress && (++done & 0x3ffff) === 0) options.onProgress(done, total);
    }
    if (seen !== declared[k]) {
      r.fail(`section \\${k}-grams: has ${seen} entries but the \\data\\ header declares ${declared[k]}`);
    }
  }
  if (s === undefined || s.trim() !== '\\end\\') r.fail(s === undefined ? 'missing \\end\\ at the end of the file (truncated?)' : `expected \\end\\ but found "${s}"`);
  trie.linkSuffixes();
  const unk = trie.find(ROOT, UNK);
  if (unk < 0 || Number.isNaN(logProb[unk])) {
    options.warn?.(`${file}: the model has no <unk>; unknown words get log10 p = -100, as KenLM substitutes`);
    const n = unk >= 0 ? unk : -trie.findOrInsert(ROOT, UNK, ROOT) - 1;
    ensure();
    logProb[n] = -100;
  }
  return { order, vocab, trie, logProb, backoff, unigramNode: indexUnigrams(trie, vocab) };
}
