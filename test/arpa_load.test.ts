// Reading ARPA from bytes (model/arpa_lex.ts, arpa_read.ts) and on two threads (cli/io/arpa_load.ts):
// numbers read exactly as Number() reads them, the two-thread load equals the one-thread read value
// for value, a damaged large file is reported by the worker with its line, and a context that is not
// an entry of its own (as in pruned files) still reads.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { loadArpaFile, loadArpaTables, startArpaLexing } from '../cli/io/arpa_load.js';
import { rebuildLanguageModel } from '../model/binary/rebuild.js';
import { Scorer } from '../model/score.js';
import { buildQueryIndex } from '../model/query_index.js';
import { parseDecimal } from '../model/arpa_fields.js';
import { ContextKeys } from '../model/context_keys.js';
import { ArpaModelBuilder } from '../model/arpa_read.js';
import type { ArpaChunk } from '../model/arpa_lex.js';
import { arpaChunks } from '../model/arpa_write.js';
import { formatFloat32 } from '../model/float32_text.js';
import { readArpa } from '../model/arpa_read.js';
import type { LanguageModel } from '../model/language_model.js';
import { seededRandom } from '../model/sample.js';
import { buildFromFile } from './helpers/corpus.js';
import { BUNDLED_TRAIN, HAS_SHARED, SHARED, SHARED_SKIP_NOTE } from './helpers/paths.js';
import { tempDir } from './helpers/temp_dir.js';

const tmp = tempDir('dbslm-arpa-load-');
test.after.always(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The bundled corpus's order-5 model as ARPA: a few MB, enough for the two-thread path. */
const bigArpa = path.join(tmp, 'sample5.arpa');
const built = buildFromFile(BUNDLED_TRAIN, 5);
fs.writeFileSync(bigArpa, Buffer.concat([...arpaChunks(built.lm, built.counts)].map((c) => (typeof c === 'string' ? Buffer.from(c) : c))));

function assertSameModel(t: import('ava').ExecutionContext, a: LanguageModel, b: LanguageModel): void {
  t.is(a.order, b.order);
  t.deepEqual(a.vocab.words, b.vocab.words);
  t.is(a.trie.size, b.trie.size);
  let differ = 0;
  for (let n = 0; n < a.trie.size; n++) {
    if (!Object.is(a.logProb[n], b.logProb[n]) || !Object.is(a.backoff[n], b.backoff[n]) || a.trie.parent[n] !== b.trie.parent[n] || a.trie.word[n] !== b.trie.word[n] || a.trie.suffix[n] !== b.trie.suffix[n]) differ++;
  }
  t.is(differ, 0, 'nodes that differ');
}

test('numbers read from bytes equal Number() of their text, and malformed ones are refused', (t) => {
  const random = seededRandom(3);
  const texts = ['0', '-0', '1', '-1.5', '+2', '.5', '5.', '1e5', '1E-5', '-2.5e+3', '-99', '0.000001234', '123456789012345', '1234567890123456789', '1e-30', '9.999e22', '-1.2345678e-7', '00012.50', '9007199254740991', '9007199254740993', '90071992547409.93', '0.0000000000000000001234567', '0000000000000000000001.5', '12345678901234567e-5', '1.e3', '-.25e-2'];
  for (let i = 0; i < 2000; i++) {
    const v = Math.fround(-random() * 10 ** (random() * 12 - 8));
    texts.push(formatFloat32(v), String(v), v.toExponential(6), v.toFixed(9));
  }
  for (const text of texts) {
    const bytes = Buffer.from(`x${text}y`);
    t.true(Object.is(parseDecimal(bytes, 1, bytes.length - 1), Number(text)), text);
  }
  for (const bad of ['', '-', 'x0.4', '1e', '1.2.3', 'Infinity', '-inf', 'nan', '1,5', '--1']) {
    const bytes = Buffer.from(bad);
    t.true(Number.isNaN(parseDecimal(bytes, 0, bytes.length)), `"${bad}" is refused`);
  }
});

test('the two-thread load equals the one-thread read', (t) => {
  t.true(fs.statSync(bigArpa).size >= 4 << 20, 'the file is large enough for two threads');
  assertSameModel(t, loadArpaFile(bigArpa), readArpa(fs.readFileSync(bigArpa), bigArpa));
  // And both equal the model the file was written from, where ARPA keeps float32 text.
  const lm = readArpa(fs.readFileSync(bigArpa), bigArpa);
  t.is(lm.trie.size, built.lm.trie.size);
});

test("KenLM's order-3 model reads alike on one and two threads", (t) => {
  if (!HAS_SHARED) return t.pass(SHARED_SKIP_NOTE);
  const file = path.join(SHARED, 'reference', 'kenlm', 'kjv3.arpa.gz');
  const unzipped = path.join(tmp, 'kjv3.arpa');
  fs.writeFileSync(unzipped, zlib.gunzipSync(fs.readFileSync(file)));
  const two = loadArpaFile(unzipped);
  const one = readArpa(fs.readFileSync(unzipped), unzipped);
  assertSameModel(t, two, one);
  t.deepEqual(two.trie.countsByOrder(3).slice(1), [13377, 141868, 388825]);
});

test('a damaged line deep in a large file is reported from the reading thread with its line', (t) => {
  const lines = fs.readFileSync(bigArpa, 'utf8').split('\n');
  const at = lines.length - 100;
  lines[at] = lines[at]!.replace(/^-?[0-9.]+/, 'x1.5');
  const damaged = path.join(tmp, 'damaged.arpa');
  fs.writeFileSync(damaged, lines.join('\n'));
  const err = t.throws(() => loadArpaFile(damaged));
  t.regex(err!.message, new RegExp(`damaged\\.arpa:${at + 1}: malformed ARPA entry: log10 probability "x1\\.5" is not a number`));
});

test('a context that is not an entry of its own reads as a blank prefix node', (t) => {
  const arpa = ['\\data\\', 'ngram 1=4', 'ngram 2=1', 'ngram 3=1', '', '\\1-grams:', '-1\t<unk>\t0', '0\t<s>\t-0.3', '-0.5\t</s>\t0', '-0.4\ta\t-0.2', '', '\\2-grams:', '-0.2\t<s> a\t-0.1', '', '\\3-grams:', '-0.1\ta a </s>', '', '\\end\\', ''].join('\n');
  const lm = readArpa(arpa, 'pruned.arpa');
  const context = lm.trie.findPath([3, 3]);
  t.true(context >= 0 && Number.isNaN(lm.logProb[context]!), '"a a" exists as a prefix only');
  t.is(lm.logProb[lm.trie.findPath([3, 3, 2])], -0.1);
  t.is(lm.logProb[lm.trie.findPath([1, 3])], -0.2);
});

test('the scoring tables read straight from ARPA (lexing started early) equal those built from its trie, and give back the same model', (t) => {
  // Lexing started before the load asks for it, as `ppl --model` starts it while its modules load.
  startArpaLexing(bigArpa);
  const fromTrie = readArpa(fs.readFileSync(bigArpa), bigArpa);
  const tables = loadArpaTables(bigArpa);
  t.deepEqual(tables.vocab.words, fromTrie.vocab.words);
  // Same scores, sentence by sentence, as the tables built from the trie give.
  const direct = new Scorer(tables.index);
  const viaTrie = new Scorer(buildQueryIndex(fromTrie));
  const lines = fs.readFileSync(BUNDLED_TRAIN, 'utf8').split('\n').slice(0, 300);
  let differ = 0;
  for (const line of lines) {
    const ids = line.split(' ').filter((w) => w !== '').map((w) => tables.vocab.lookup(w));
    const a = direct.sentence(ids);
    const b = viaTrie.sentence(ids);
    if (!Object.is(a.total, b.total) || a.oov !== b.oov) differ++;
  }
  t.is(differ, 0);
  // The trie rebuilt from the tables writes the same ARPA.
  const text = (lm: LanguageModel) => Buffer.concat([...arpaChunks(lm, lm.trie.countsByOrder(lm.order))].map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
  t.true(text(rebuildLanguageModel(tables)).equals(fs.readFileSync(bigArpa)));
});

test('a file using many prefixes it never lists still reads into tables (through the trie)', (t) => {
  // Order 3 with one bigram declared but 1000 trigrams under distinct unlisted contexts: more
  // prefixes than the bigram table sized from the header holds (1024 slots).
  const words = Array.from({ length: 1000 }, (_, i) => `w${i}`);
  const lines = ['\\data\\', `ngram 1=${3 + words.length}`, 'ngram 2=1', `ngram 3=${words.length}`, '', '\\1-grams:', '-1\t<unk>\t0', '0\t<s>\t-0.3', '-0.5\t</s>\t0'];
  for (const w of words) lines.push(`-1.7\t${w}\t-0.2`);
  lines.push('', '\\2-grams:', '-0.2\t<s> w0\t-0.1', '', '\\3-grams:');
  for (const w of words) lines.push(`-0.1\t${w} ${w} </s>`);
  lines.push('', '\\end\\', '');
  const file = path.join(tmp, 'prefixes.arpa');
  fs.writeFileSync(file, lines.join('\n'));
  const tables = loadArpaTables(file);
  t.true(tables.index.slotCounts[2]! > 1024, 'the tables came through the trie, sized for every prefix');
  const lm = readArpa(fs.readFileSync(file), file);
  const scorer = new Scorer(tables.index);
  const reference = new Scorer(buildQueryIndex(lm));
  for (const w of words.slice(0, 5)) {
    const ids = [w, w].map((x) => tables.vocab.lookup(x));
    t.true(Object.is(scorer.sentence(ids).total, reference.sentence(ids).total));
  }
});

test('context keys: a second n-gram with a key already taken is a collision, never a silent overwrite', (t) => {
  const keys = new ContextKeys(4);
  for (let i = 0; i < 3000; i++) t.true(keys.add(i * 7919, -i, i, i % 13));
  t.is(keys.get(21 * 7919, -21, 21 % 13), 21);
  t.is(keys.get(21 * 7919, -21, 21 % 13 + 1), -1, 'the key of an entry with another last word is not trusted');
  t.is(keys.get(5, 5, 0), -1);
  t.false(keys.add(21 * 7919, -21, 99, 0));
  t.is(keys.get(21 * 7919, -21, 21 % 13), 21);
});

test('two entries with one 64-bit key: their longer n-grams still go under the right contexts', (t) => {
  // Hand-made records whose keys all collide: every context must then be found by walking.
  const chunk = (order: number, grams: number[][], newWords: string[] = []): ArpaChunk => ({
    order,
    count: grams.length,
    ids: Int32Array.from(grams.flat()),
    logProb: Float64Array.from(grams, (_, i) => -1 - i / 10),
    backoff: new Float64Array(grams.length),
    lines: new Int32Array(grams.length),
    newWords,
    keys: new Int32Array(grams.length * 4).fill(7),
    buffer: new ArrayBuffer(0),
  });
  // "a x" and "b x" share a key and a last word: trusting the key would put "a x c" under "b x".
  const [a, b, x, c] = [3, 4, 5, 6];
  const builder = new ArpaModelBuilder('collide.arpa', 3, [0, 7, 2, 2]);
  builder.add(chunk(1, [[0], [1], [2], [a], [b], [x], [c]], ['a', 'b', 'x', 'c']));
  builder.add(chunk(2, [[a, x], [b, x]]));
  builder.add(chunk(3, [[a, x, c], [b, x, c]]));
  const lm = builder.finish();
  t.is(lm.logProb[lm.trie.findPath([a, x, c])], -1);
  t.is(lm.logProb[lm.trie.findPath([b, x, c])], -1.1);
  t.is(lm.trie.countsByOrder(3)[3], 2);
});

test('invalid UTF-8 past the reading thread\'s first window is reported with its line', (t) => {
  const text = fs.readFileSync(bigArpa);
  const lines: Buffer[] = [];
  for (let from = 0; from < text.length; ) {
    const end = text.indexOf(10, from);
    lines.push(text.subarray(from, end + 1));
    from = end + 1;
  }
  const at = lines.length - 50; // far past the first 2 MB window
  lines[at] = Buffer.concat([Buffer.from([0x2d, 0x31, 0x09, 0xff, 0xfe]), lines[at]!.subarray(lines[at]!.indexOf(9) + 1)]);
  const damaged = path.join(tmp, 'latin1.arpa');
  fs.writeFileSync(damaged, Buffer.concat(lines));
  const err = t.throws(() => loadArpaFile(damaged));
  t.regex(err!.message, new RegExp(`latin1\\.arpa:${at + 1}: invalid UTF-8`));
});

test('a line longer than the reading window (a 3 MB word) reads as on one thread', (t) => {
  const long = 'w'.repeat(3 << 20);
  const lines = ['\\data\\', 'ngram 1=5', 'ngram 2=1', '', '\\1-grams:', '-1\t<unk>\t0', '0\t<s>\t-0.3', '-0.5\t</s>\t0', `-0.4\t${long}\t-0.2`, '-0.6\tb\t-0.1', '', '\\2-grams:', `-0.2\t<s> ${long}`, '', '\\end\\', ''];
  const file = path.join(tmp, 'long-word.arpa');
  fs.writeFileSync(file, lines.join('\n'));
  t.true(fs.statSync(file).size >= 4 << 20, 'large enough for the reading thread');
  assertSameModel(t, loadArpaFile(file), readArpa(fs.readFileSync(file), file));
});
