// The model layout's encodings (store/model/layout.ts) and the canonical assembly of a model from
// entries in any order (store/model/assemble.ts): pure, no store.
import test from 'ava';
import { arpaChunks } from '../model/arpa_write.js';
import { entryCounts, type LanguageModel } from '../model/language_model.js';
import { ROOT } from '../model/ngram_trie.js';
import { seededRandom } from '../model/sample.js';
import { ModelMetaWithoutTopKType, type ModelMeta } from '../schemas/model_meta.js';
import { assembleModel, type OrderEntries } from '../store/model/assemble.js';
import {
  checkModelName,
  contextPrefix,
  decodeMeta,
  decodeNgramValue,
  decodeWordId,
  encodeMeta,
  encodeNgramValue,
  encodeWordId,
  metaKey,
  MODEL_LAYOUT,
  modelNamespace,
  ngramKey,
  NgramKeyReader,
  vocabBlockPrefix,
  vocabIdOfKey,
  vocabKey,
  wordKey,
} from '../store/model/layout.js';
import { parseKey, rangePrefix } from '../store/protocol/keys.js';
import { buildFromText } from './helpers/corpus.js';

const u32 = (...ids: number[]) => Buffer.concat(ids.map((id) => Buffer.from([id >>> 24, (id >>> 16) & 255, (id >>> 8) & 255, id & 255])));

test('keys: each kind in its namespace, with the routing prefix and rest the layout table gives', (t) => {
  t.deepEqual(parseKey(metaKey('kjv5')), { ns: 'kjv5.meta', prefix: Buffer.alloc(0), rest: Buffer.alloc(0) });
  // Vocabulary: blocks of 4096 ids per routing prefix.
  t.deepEqual(parseKey(vocabKey('kjv5', 4095)), { ns: 'kjv5.vocab', prefix: u32(0), rest: u32(4095) });
  t.deepEqual(parseKey(vocabKey('kjv5', 4096)), { ns: 'kjv5.vocab', prefix: u32(1), rest: u32(4096) });
  t.true(vocabKey('kjv5', 9000).subarray(0, vocabBlockPrefix('kjv5', 2).length).equals(vocabBlockPrefix('kjv5', 2)));
  t.is(vocabIdOfKey(vocabKey('kjv5', 70000)), 70000);
  t.deepEqual(parseKey(wordKey('kjv5', 'LORD')), { ns: 'kjv5.word', prefix: Buffer.from('LORD'), rest: Buffer.alloc(0) });
  // N-grams: the context's ids are the routing prefix, the word the rest.
  t.deepEqual(parseKey(ngramKey('kjv5', [7, 300, 2])), { ns: 'kjv5.p', prefix: u32(7, 300), rest: u32(2) });
  t.deepEqual(parseKey(ngramKey('kjv5', [5])), { ns: 'kjv5.p', prefix: Buffer.alloc(0), rest: u32(5) });
  t.true(ngramKey('kjv5', [7, 300, 2]).subarray(0, contextPrefix('kjv5', [7, 300]).length).equals(rangePrefix('kjv5.p', u32(7, 300))));
});

test("a context's followers are one range, ordered by word id (big-endian ids: 256 after 255)", (t) => {
  const keys = [256, 3, 255, 70000].map((w) => ngramKey('m', [9, w]));
  const head = contextPrefix('m', [9]);
  t.true(keys.every((k) => k.subarray(0, head.length).equals(head)));
  const reader = new NgramKeyReader(Buffer.byteLength('m.p'));
  const sorted = [...keys].sort(Buffer.compare).map((k) => {
    const ids = new Uint32Array(2);
    reader.idsOf(k, reader.orderOf(k), ids, 0);
    return ids[1];
  });
  t.deepEqual(sorted, [3, 255, 256, 70000]);
});

test('the n-gram key reader gives order and ids, and refuses keys of another shape', (t) => {
  const reader = new NgramKeyReader(Buffer.byteLength('a.model.p'));
  for (const ids of [[0], [1, 2], [4294967295, 17, 4096, 3, 9]]) {
    const key = ngramKey('a.model', ids);
    const k = reader.orderOf(key);
    t.is(k, ids.length);
    const out = new Uint32Array(k + 2);
    reader.idsOf(key, k, out, 2);
    t.deepEqual(Array.from(out.subarray(2)), ids);
  }
  t.throws(() => reader.orderOf(Buffer.concat([ngramKey('a.model', [1, 2]), Buffer.from([0])])), { message: /not an n-gram key of the model layout/ });
  t.throws(() => reader.orderOf(wordKey('a.model', 'abc')), { message: /not an n-gram key/ });
});

test('values: n-gram values keep float64 exactly; word ids are u32', (t) => {
  for (const [p, b] of [[-0.1, -0.30000000000000004], [Math.log10(1 / 3), 0], [-99, -1e-300]]) {
    const v = encodeNgramValue(p!, b!);
    t.is(v.length, 16);
    t.is(v.readDoubleLE(0), p!);
    t.deepEqual(decodeNgramValue(v), { logProb: p!, backoff: b! });
  }
  t.throws(() => decodeNgramValue(Buffer.alloc(8)), { message: /has 8 bytes; the layout has 16/ });
  t.is(decodeWordId(encodeWordId(123456)), 123456);
  t.deepEqual(encodeWordId(258), u32(258));
  t.throws(() => decodeWordId(Buffer.alloc(8)), { message: /has 8 bytes/ });
});

const META: ModelMeta = {
  layout: MODEL_LAYOUT,
  complete: true,
  version: 1700000000123,
  order: 3,
  tokenizer: 'whitespace',
  vocabSize: 13377,
  counts: [13377, 141868, 388825],
  discounts: [{ order: 2, d1: 0.5, d2: 1.0000000000000002, d3plus: 1.5 }],
  source: 'arpa:/x/kjv3.arpa.gz',
  writtenMs: 1700000000000,
  topk: null,
};

test('meta: round trip; a meta of another layout is refused by number', (t) => {
  t.deepEqual(JSON.parse(JSON.stringify(decodeMeta(encodeMeta(META), 'm'))), META);
  t.throws(() => decodeMeta(encodeMeta({ ...META, layout: 2 }), 'kjv'), { message: /model kjv is stored in layout 2; this dbslm reads layout 1/ });
  t.throws(() => decodeMeta(Buffer.alloc(0), 'kjv'));
});

test('meta: one with Top-K heads round-trips; one written before the topk field decodes as a model without heads', (t) => {
  const withHeads = { ...META, topk: { k: 32, bits: 8, centers: [-3.5, -2.25, -0.5], rows: 26555, entries: 849760 } };
  t.deepEqual(JSON.parse(JSON.stringify(decodeMeta(encodeMeta(withHeads), 'm'))), withHeads);
  // The old record's fields only (avsc writes a record's declared fields).
  const old = ModelMetaWithoutTopKType.toBuffer(META);
  t.true(old.length < encodeMeta(META).length, 'the old record is the new one less its last field');
  t.deepEqual(JSON.parse(JSON.stringify(decodeMeta(old, 'm'))), META);
});

test('model names: letters, digits, _ . -, not starting with . or -', (t) => {
  for (const ok of ['default', 'kjv5', 'kjv.pairs-v2_1', '_x']) t.is(checkModelName(ok), ok);
  for (const bad of ['', '.hidden', '-x', 'a b', 'a/b', 'a:b', 'x'.repeat(101), 'é']) t.throws(() => checkModelName(bad), { message: /is not valid/ }, bad);
  t.is(modelNamespace('kjv5', 'p'), 'kjv5.p');
});

// ---- assembly

/** The entries of `lm`, order by order, shuffled. */
function entriesOf(lm: LanguageModel, seed: number): OrderEntries[] {
  const rnd = seededRandom(seed);
  const byOrder: { ids: number[]; logProb: number; backoff: number }[][] = Array.from({ length: lm.order }, () => []);
  for (let n = 1; n < lm.trie.size; n++) if (!Number.isNaN(lm.logProb[n])) byOrder[lm.trie.order[n] - 1]!.push({ ids: lm.trie.path(n), logProb: lm.logProb[n]!, backoff: lm.backoff[n]! });
  return byOrder.map((list) => {
    for (let j = list.length - 1; j > 0; j--) {
      const r = Math.floor(rnd() * (j + 1));
      [list[j], list[r]] = [list[r]!, list[j]!];
    }
    return { ids: Uint32Array.from(list.flatMap((e) => e.ids)), logProb: Float64Array.from(list, (e) => e.logProb), backoff: Float64Array.from(list, (e) => e.backoff) };
  });
}

function compareTuples(x: number[], y: number[]): number {
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

const arpaText = (lm: LanguageModel) => [...arpaChunks(lm, entryCounts(lm))].map(String).join('');
const CORPUS = 'the cat sat on the mat\nthe dog sat\na cat and a dog\nthe cat ran on\n';

test('assembly: the same model and the same canonical ARPA whatever order the entries come in', (t) => {
  const { lm } = buildFromText(CORPUS, 3, true);
  const a = assembleModel(3, lm.vocab.words, entriesOf(lm, 1));
  const b = assembleModel(3, lm.vocab.words, entriesOf(lm, 2));
  t.is(arpaText(a), arpaText(b));
  t.deepEqual(entryCounts(a), entryCounts(lm));
  // Every n-gram with its exact values.
  for (let n = 1; n < lm.trie.size; n++) {
    if (Number.isNaN(lm.logProb[n])) continue;
    const m = a.trie.findPath(lm.trie.path(n));
    t.is(a.logProb[m], lm.logProb[n]);
    t.is(a.backoff[m], lm.backoff[n]);
    t.is(a.trie.suffix[m] === ROOT || a.trie.suffix[m]! < 0 ? a.trie.suffix[m] : a.trie.path(a.trie.suffix[m]!).join(' '), lm.trie.suffix[n] === ROOT || lm.trie.suffix[n]! < 0 ? lm.trie.suffix[n] : lm.trie.path(lm.trie.suffix[n]!).join(' '));
  }
  // Canonical: within each order, node ids follow the word-id tuples.
  for (let k = 2; k <= 3; k++) {
    const tuples: number[][] = [];
    for (let n = 1; n < a.trie.size; n++) if (a.trie.order[n] === k) tuples.push(a.trie.path(n));
    const sorted = [...tuples].sort(compareTuples);
    t.deepEqual(tuples, sorted, `order ${k} in tuple order`);
  }
});

test('assembly refuses a vocabulary without the special ids, a repeated word or n-gram, and ids beyond the vocabulary', (t) => {
  const { lm } = buildFromText(CORPUS, 2, true);
  const words = lm.vocab.words;
  const entries = entriesOf(lm, 3);
  t.throws(() => assembleModel(2, ['<s>', '<unk>', '</s>', ...words.slice(3)], entries), { message: /vocabulary id 0 is "<s>"; ids 0, 1, 2 must be <unk>, <s>, <\/s>/ });
  t.throws(() => assembleModel(2, [...words, 'cat'], entries), { message: /vocabulary id \d+ repeats the word "cat"/ });
  const twice: OrderEntries = { ids: Uint32Array.from([...entries[1]!.ids, entries[1]!.ids[0]!, entries[1]!.ids[1]!]), logProb: Float64Array.from([...entries[1]!.logProb, -1]), backoff: Float64Array.from([...entries[1]!.backoff, 0]) };
  t.throws(() => assembleModel(2, words, [entries[0]!, twice]), { message: /the 2-gram .+ is stored twice/ });
  const beyond: OrderEntries = { ids: Uint32Array.from([1, words.length]), logProb: Float64Array.from([-1]), backoff: Float64Array.from([0]) };
  t.throws(() => assembleModel(2, words, [entries[0]!, beyond]), { message: new RegExp(`word id ${words.length}, beyond the ${words.length}-word vocabulary`) });
});

test('assembly gives a context missing from the entries a node without an entry, and <unk> its -100 when absent', (t) => {
  const words = ['<unk>', '<s>', '</s>', 'a', 'b'];
  const warnings: string[] = [];
  const lm = assembleModel(
    2,
    words,
    [
      { ids: Uint32Array.from([3, 2]), logProb: Float64Array.from([-0.5, -0.7]), backoff: Float64Array.from([-0.1, 0]) },
      { ids: Uint32Array.from([4, 3]), logProb: Float64Array.from([-0.2]), backoff: Float64Array.from([0]) }, // context "b" has no unigram
    ],
    (m) => warnings.push(m),
  );
  const b = lm.trie.find(ROOT, 4);
  t.true(b >= 0 && Number.isNaN(lm.logProb[b]!), 'b is a bare context');
  t.is(lm.logProb[lm.trie.findPath([4, 3])], -0.2);
  t.is(lm.logProb[lm.unigramNode[0]!], -100);
  t.deepEqual(warnings, ['the model has no <unk>; unknown words get log10 p = -100, as KenLM substitutes']);
  t.deepEqual(entryCounts(lm).slice(1), [3, 1]);
});
