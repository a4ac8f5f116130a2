// Binary model files, in-process: ARPA -> binary -> ARPA is byte-identical (KenLM's kjv3 and a
// dbslm-built model), scores from the binary equal scores from the ARPA exactly (every sentence
// total), a quantized binary scores as the quantized ARPA, topk from the follower index equals the
// Top-K heads, and a damaged file is refused with an error that names the file and what is wrong.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { asArpaReadsBack } from '../model/arpa_read_back.js';
import { readArpa } from '../model/arpa_read.js';
import { arpaChunks } from '../model/arpa_write.js';
import { encodeContainer, FORMAT_VERSION } from '../model/binary/container.js';
import { modelSections, readBinaryModel } from '../model/binary/model_file.js';
import { probBookSection, quantizedSections } from '../model/binary/quantized.js';
import { rebuildLanguageModel } from '../model/binary/rebuild.js';
import { addTopK, openTopK } from '../model/binary/topk_file.js';
import { NextWordDistribution } from '../model/distribution.js';
import { buildTopK, rowFor } from '../model/topk.js';
import { buildModel } from '../model/build.js';
import { decodeUtf8, IdStream, readWhitespace } from '../model/corpus_read.js';
import { InputError } from '../model/errors.js';
import { entryCounts, type LanguageModel } from '../model/language_model.js';
import { quantizeModel } from '../model/quantize.js';
import type { QueryIndex } from '../model/query_index.js';
import { Scorer, type SentenceScore } from '../model/score.js';
import { BOS, Vocab } from '../model/vocab.js';
import { BUNDLED_TEST, BUNDLED_TRAIN, HAS_SHARED, SHARED, SHARED_SKIP_NOTE } from './helpers/paths.js';

const arpaText = (lm: LanguageModel): Buffer => Buffer.concat([...arpaChunks(lm, entryCounts(lm))].map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
const fileOf = (lm: LanguageModel): Buffer => Buffer.concat(encodeContainer(...sectionsOf(lm)));
function sectionsOf(lm: LanguageModel): Parameters<typeof encodeContainer> {
  const { meta, sections } = modelSections(lm);
  return [meta, sections];
}

function scoreLines(model: LanguageModel | QueryIndex, vocab: Vocab, file: string): SentenceScore[] {
  const scorer = new Scorer(model);
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  return lines.map((line) => scorer.sentence(line.split(' ').filter(Boolean).map((w) => vocab.lookup(w))));
}

/** Every sentence's total, OOV count and OOV mass equal: exact, not within a tolerance. */
function assertSameScores(t: import('ava').ExecutionContext, got: SentenceScore[], want: SentenceScore[]): void {
  t.is(got.length, want.length);
  const differing = got.filter((s, i) => s.total !== want[i].total || s.oov !== want[i].oov || s.oovTotal !== want[i].oovTotal).length;
  t.is(differing, 0, `${differing} of ${got.length} sentences score differently`);
  t.true(want.some((s) => s.oov > 0), 'the test text has OOVs, so the <unk> path is compared too');
}

function buildSample(order: number): LanguageModel {
  const vocab = new Vocab();
  const ids = new IdStream();
  readWhitespace(decodeUtf8(fs.readFileSync(BUNDLED_TRAIN), BUNDLED_TRAIN), BUNDLED_TRAIN, vocab, ids);
  return buildModel(ids.view, vocab, { order }).lm;
}

if (HAS_SHARED) {
  test.serial("KenLM's kjv3.arpa.gz -> binary -> ARPA is byte-identical, and the binary scores kjv.test.txt exactly as the ARPA", (t) => {
    const original = zlib.gunzipSync(fs.readFileSync(path.join(SHARED, 'reference', 'kenlm', 'kjv3.arpa.gz')));
    const lm = readArpa(original.toString('utf8'), 'kjv3.arpa');
    const binary = readBinaryModel(fileOf(lm), 'kjv3.dbslm');
    t.true(arpaText(rebuildLanguageModel(binary)).equals(original), 'the ARPA written from the binary is the original, byte for byte');
    const test = path.join(SHARED, 'corpora', 'kjv.test.txt');
    assertSameScores(t, scoreLines(binary.index, binary.vocab, test), scoreLines(lm, lm.vocab, test));
  });
} else test.skip(`KenLM kjv3 round trip: ${SHARED_SKIP_NOTE}`, () => {});

test('a built model written as binary scores as its ARPA, and converts back to that ARPA byte for byte', (t) => {
  const built = buildSample(4);
  const arpa = arpaText(built);
  const fromArpa = readArpa(arpa.toString('utf8'), 'sample4.arpa');
  // What `build --binary` writes: the build's values as its ARPA text reads back.
  const binary = readBinaryModel(fileOf(asArpaReadsBack(built)), 'sample4.dbslm');
  t.true(arpaText(rebuildLanguageModel(binary)).equals(arpa), 'binary -> ARPA equals the ARPA of the build');
  assertSameScores(t, scoreLines(binary.index, binary.vocab, BUNDLED_TEST), scoreLines(fromArpa, fromArpa.vocab, BUNDLED_TEST));
  // And a binary made from the ARPA is the same file as the one made from the build.
  t.true(fileOf(fromArpa).equals(fileOf(asArpaReadsBack(built))), 'binary from the build = binary from its ARPA');
});

test('a quantized binary scores exactly as the quantized ARPA, and holds its codebooks', (t) => {
  const lm = readArpa(arpaText(buildSample(3)).toString('utf8'), 'sample3.arpa');
  const q = quantizeModel(lm, 8);
  const quantizedArpa = readArpa(arpaText(q.lm).toString('utf8'), 'sample3.q8.arpa');
  const { meta, sections } = quantizedSections(q);
  const binary = readBinaryModel(Buffer.concat(encodeContainer(meta, sections)), 'sample3.q8.dbslm');
  t.is(binary.meta.quantizedBits, 8);
  const book = binary.sections.get(probBookSection(2))!;
  t.is(book.byteLength / 8, q.probBooks[2].centers.length, 'the order-2 probability codebook is stored');
  assertSameScores(t, scoreLines(binary.index, binary.vocab, BUNDLED_TEST), scoreLines(quantizedArpa, quantizedArpa.vocab, BUNDLED_TEST));
  const unquantized = scoreLines(lm, lm.vocab, BUNDLED_TEST);
  t.true(
    scoreLines(binary.index, binary.vocab, BUNDLED_TEST).some((s, i) => s.total !== unquantized[i].total),
    'and it is really quantized: some totals differ from the unquantized model',
  );
});

test('a damaged binary is refused with an error naming the file and what is wrong', (t) => {
  const good = fileOf(readArpa(arpaText(buildSample(2)).toString('utf8'), 'sample2.arpa'));
  t.notThrows(() => readBinaryModel(good, 'm.dbslm'));
  const refused = (bytes: Buffer, what: RegExp): void => {
    const e = t.throws(() => readBinaryModel(bytes, 'm.dbslm'), { instanceOf: InputError });
    t.regex(e!.message, /^m\.dbslm: /, 'names the file');
    t.regex(e!.message, what);
  };
  for (const at of [20, 40, 1000, good.length >> 1, good.length - 1]) {
    const flipped = Buffer.from(good);
    flipped[at] ^= 0x10;
    refused(flipped, at === 20 ? /truncated|after the|checksum/ : /checksum mismatch/);
  }
  refused(good.subarray(0, good.length - 8), /truncated binary model: \d+ bytes of the \d+ its header declares/);
  refused(good.subarray(0, 20), /truncated binary model: 20 bytes, shorter than its 32-byte header/);
  refused(Buffer.concat([good, Buffer.alloc(8)]), /8 bytes after the \d+ its header declares/);
  const other = Buffer.from(good);
  other.writeUInt32LE(FORMAT_VERSION + 1, 8);
  refused(other, new RegExp(`format version ${FORMAT_VERSION + 1}; this dbslm reads version ${FORMAT_VERSION}`));
  const text = Buffer.from(good);
  text[0] = 0x5c;
  refused(text, /not a dbslm binary model/);
});

test("topk from a binary's follower index equals the Top-K heads built from the model, for every context tried", (t) => {
  const lm = readArpa(arpaText(buildSample(4)).toString('utf8'), 'sample4.arpa');
  const k = 8;
  const { meta, sections, placed } = modelSections(lm);
  const withTopK = addTopK(lm, placed.index, meta, sections, k, 8);
  const binary = readBinaryModel(Buffer.concat(encodeContainer(withTopK, sections)), 'sample4.topk.dbslm');
  const head = openTopK(binary, k, 8)!;
  t.truthy(head, 'the file answers topk for the K and bits it was written with');
  t.is(openTopK(binary, k + 1, 8), undefined, 'and not for another K (its codebook would differ)');
  const topk = buildTopK(lm, k, 8);
  const dist = new NextWordDistribution(lm);
  // Histories: every position of the held-out text (seen and unseen contexts, OOVs), a few lengths.
  const lines = fs.readFileSync(BUNDLED_TEST, 'utf8').split('\n').filter(Boolean).slice(0, 60);
  let tried = 0;
  let differing = 0;
  for (const line of lines) {
    const ids = [BOS, ...line.split(' ').map((w) => lm.vocab.lookup(w))];
    for (let end = 1; end <= ids.length; end++) {
      const history = ids.slice(Math.max(0, end - 4), end);
      const ctx = dist.contexts(history);
      const row = rowFor(topk, lm, ctx.length ? ctx[ctx.length - 1] : 0);
      const want = { context: ctx.length ? lm.trie.path(ctx[ctx.length - 1]) : [], words: [] as number[], values: [] as number[], quantized: [] as number[] };
      for (let at = row * k; at < (row + 1) * k && topk.words[at] >= 0; at++) {
        want.words.push(topk.words[at]);
        want.values.push(topk.values[at]);
        want.quantized.push(topk.codebook.centers[topk.codes[at]]);
      }
      tried++;
      const got = head(history);
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        if (differing++ < 3) t.log(`history ${history.join(' ')}: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
      }
    }
  }
  t.true(tried > 1000, `${tried} histories`);
  t.is(differing, 0);
});
