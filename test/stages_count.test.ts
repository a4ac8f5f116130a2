// The count stage and the whole chain in-process: read -> split -> count over a real file with an
// inline compute gives, batch by batch, the same store writes as counting every sentence at once;
// and those writes name exactly the n-grams the in-process estimator keeps.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { from } from 'rxjs';
import { buildModel } from '../model/build.js';
import { IdStream, readWhitespace } from '../model/corpus_read.js';
import { Vocab } from '../model/vocab.js';
import type { CountBatch, ReadTask, SentenceBatch } from '../schemas/pipeline.js';
import { countBatchMessage, decodeStageMessage, encodeStageMessage } from '../schemas/pipeline.js';
import { count } from '../stages/count.js';
import { read } from '../stages/read.js';
import { split } from '../stages/split.js';
import type { Compute } from '../stages/stage.js';
import { countBatch } from '../stages/tasks.js';
import { decodeStatKey, firstKey, leftKey, rawKey, TAG_FIRST, TAG_LEFT, TAG_RAW } from '../store/model/stat_keys.js';
import { statOpsOf, type StatOps } from '../store/model/stat_ops.js';
import { BUNDLED_TRAIN } from './helpers/paths.js';
import { inlineCompute, runStage, tempFiles } from './helpers/stages.js';

const MODEL = 'kjv';

function task(file: string, batch: number, input = 0): ReadTask {
  return { generation: 2, input, path: file, written: path.basename(file), format: 'text', config: null, batch, skip: [], only: null };
}

async function sentenceBatches(tasks: ReadTask[]): Promise<SentenceBatch[]> {
  return runStage(split({ tokenizer: 'whitespace', strict: false }), await runStage(read(), tasks));
}

/** Every sentence of the batches with its position, as one list (the whole corpus at once). */
function allSentences(batches: readonly SentenceBatch[]) {
  return [...batches]
    .sort((a, b) => a.input - b.input || a.offset - b.offset)
    .flatMap((b) => b.sentences.map((s) => ({ tokens: s.tokens, eos: s.eos, position: { generation: b.generation, input: b.input, line: s.offset } })));
}

interface Summary {
  raw: Map<string, number>;
  left: Set<string>;
  /** word -> least FIRST key (hex); keys sort by position. */
  first: Map<string, string>;
}

function summarise(ops: readonly Pick<StatOps, 'incrs' | 'sets'>[]): Summary {
  const s: Summary = { raw: new Map(), left: new Set(), first: new Map() };
  for (const o of ops) {
    for (const { key, delta } of o.incrs) {
      check(decodeStatKey(key).tag === TAG_RAW, 'an incr is a RAW key');
      const hex = key.toString('hex');
      s.raw.set(hex, (s.raw.get(hex) ?? 0) + delta);
    }
    for (const key of o.sets) {
      const k = decodeStatKey(key);
      const hex = key.toString('hex');
      if (k.tag === TAG_LEFT) s.left.add(hex);
      else if (k.tag === TAG_FIRST) {
        const was = s.first.get(k.word);
        if (was === undefined || hex < was) s.first.set(k.word, hex);
      } else throw new Error(`unexpected set tag ${k.tag}`);
    }
  }
  return s;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

test('read -> split -> count, batch by batch and several at once, writes what counting the whole corpus at once writes', async (t) => {
  const dir = tempFiles({ 'extra.txt': 'a new word\nand the LORD said\nlast without newline' });
  const tasks = [task(BUNDLED_TRAIN, 64, 0), task(path.join(dir, 'extra.txt'), 2, 1)];
  const sentences = await sentenceBatches(tasks);
  for (const order of [1, 3, 5]) {
    const counted = await runStage(count({ model: MODEL, order, concurrency: 3 }, inlineCompute), sentences);
    t.is(counted.length, sentences.length);
    t.deepEqual(new Set(counted.map((c) => `${c.generation}:${c.input}:${c.offset}`)), new Set(sentences.map((s) => `${s.generation}:${s.input}:${s.offset}`)));
    const whole = statOpsOf(MODEL, order, allSentences(sentences));
    const got = summarise(counted.map(countBatchMessage));
    const want = summarise([whole]);
    t.deepEqual(got.raw, want.raw, `order ${order}: RAW totals`);
    t.deepEqual(got.left, want.left, `order ${order}: LEFT keys`);
    t.deepEqual(got.first, want.first, `order ${order}: least FIRST per word`);
    t.is(got.raw.size, whole.incrs.length);
    t.is(counted.reduce((n, c) => n + c.words, 0), whole.words);
    t.is(counted.reduce((n, c) => n + c.sentences, 0), allSentences(sentences).length);
    t.is(counted.reduce((n, c) => n + c.lines, 0), fs.readFileSync(BUNDLED_TRAIN, 'utf8').split('\n').length - 1 + 3);
  }
});

test('count keeps at most `concurrency` batches on the pool, and out-of-order completion is allowed', async (t) => {
  const sentences = await sentenceBatches([task(BUNDLED_TRAIN, 200)]);
  let active = 0;
  let peak = 0;
  let calls = 0;
  const slowFirst = async <In, Out>(name: string, input: In): Promise<Out> => {
    const n = calls++;
    active++;
    peak = Math.max(peak, active);
    await new Promise((resolve) => setTimeout(resolve, n === 0 ? 60 : 5));
    active--;
    return inlineCompute<In, Out>(name, input);
  };
  const counted = await runStage(count({ model: MODEL, order: 3, concurrency: 2 }, slowFirst), sentences);
  t.is(peak, 2);
  t.is(counted.length, sentences.length);
  t.not(counted[0]!.offset, sentences[0]!.offset, 'the slow first batch finished later');
});

test('a CountBatch keeps the batch origin and bad lines, and its message form survives the stage message encoding', async (t) => {
  const dir = tempFiles({ 'b.txt': 'x y\nbad <s>\nz\n' });
  const sentences = await sentenceBatches([task(path.join(dir, 'b.txt'), 10, 7)]);
  const [packed] = await runStage(count({ model: MODEL, order: 2, concurrency: 1 }, inlineCompute), sentences);
  const c = countBatchMessage(packed!);
  t.true(c.incrs.length > 0 && c.sets.length > 0);
  t.is(c.incrs.length + c.sets.length, packed!.lengths.length);
  t.deepEqual({ generation: c!.generation, input: c!.input, offset: c!.offset, words: c!.words, sentences: c!.sentences, lines: c!.lines }, { generation: 2, input: 7, offset: 0, words: 3, sentences: 2, lines: 3 });
  t.deepEqual(c!.bad.map((b) => b.where), ['b.txt:2']);
  const decoded = decodeStageMessage(encodeStageMessage('CountBatch', c)).value as CountBatch;
  t.deepEqual(decoded.incrs.map((i) => [Buffer.from(i.key).toString('hex'), i.delta]), c!.incrs.map((i) => [i.key.toString('hex'), i.delta]));
  t.deepEqual(decoded.sets.map((k) => Buffer.from(k).toString('hex')), c!.sets.map((k) => k.toString('hex')));
});

test('the countBatch task packs keys for the pool and they unpack to the same ops as statOpsOf', async (t) => {
  const sentences = [{ offset: 0, tokens: ['a', 'b', 'a'], eos: true }, { offset: 6, tokens: ['b'], eos: false }];
  t.is(countBatch({ model: MODEL, order: 3, generation: 1, input: 4, sentences }).words, 4);
  // Structured clone (what piscina does) turns Buffers into Uint8Arrays: the stage makes them Buffers again.
  const cloning: Compute = async (name, input) => structuredClone(await inlineCompute(name, input));
  const [packed] = await runStage(count({ model: MODEL, order: 3, concurrency: 1 }, cloning), [{ generation: 1, input: 4, offset: 0, file: 'f', sentences, lines: 2, bad: [] }]);
  const ops = countBatchMessage(packed!);
  const direct = statOpsOf(MODEL, 3, sentences.map((s) => ({ tokens: s.tokens, eos: s.eos, position: { generation: 1, input: 4, line: s.offset } })));
  t.deepEqual(ops.incrs.map((i) => [i.key.toString('hex'), i.delta]), direct.incrs.map((i) => [i.key.toString('hex'), i.delta]));
  t.deepEqual(ops.sets.map((k) => k.toString('hex')), direct.sets.map((k) => k.toString('hex')));
  t.is(ops.words, 4);
  t.true(Buffer.isBuffer(ops.incrs[0]!.key));
});

test('the distinct RAW and LEFT n-grams per order are exactly the n-grams the in-process model keeps', async (t) => {
  const lines = fs.readFileSync(BUNDLED_TRAIN, 'utf8').split('\n').slice(0, 300);
  const text = lines.join('\n') + '\n';
  const dir = tempFiles({ 'head.txt': text });
  const sentences = await sentenceBatches([task(path.join(dir, 'head.txt'), 50)]);
  for (const order of [2, 3, 4, 5]) {
    const counted = await runStage(count({ model: MODEL, order, concurrency: 2 }, inlineCompute), from(sentences));
    const ngrams: Set<string>[] = Array.from({ length: order + 1 }, () => new Set());
    for (const c of counted.map(countBatchMessage)) {
      for (const { key } of c.incrs) {
        const k = decodeStatKey(key);
        ngrams[k.context.length + 1]!.add([...k.context, k.word].join(' '));
      }
      for (const key of c.sets) {
        const k = decodeStatKey(key);
        // LEFT (v, hw) says hw was seen, with v before it: hw is an n-gram of the model.
        if (k.tag === TAG_LEFT) ngrams[k.context.length + 1]!.add([...k.context, k.word].join(' '));
      }
    }
    const vocab = new Vocab();
    const ids = new IdStream();
    readWhitespace(text, 'head.txt', vocab, ids);
    const built = buildModel(ids.view, vocab, { order, discountFallback: true });
    // <unk> is a unigram of every model but never occurs in the text, so no write names it.
    const implied = ngrams.map((s, m) => s.size + (m === 1 && !s.has('<unk>') ? 1 : 0));
    t.deepEqual(implied.slice(1), built.counts.slice(1), `order ${order}`);
  }
});

test('the packed keys are byte for byte the layout\'s rawKey, leftKey and firstKey (routing hash and prefix length included)', (t) => {
  // Two sentences with a repeat, so the trie shares nodes; order 3, so RAW covers the full order and <s>-starting n-grams.
  const sentences = [
    { tokens: ['a', 'b', 'a', 'b'], eos: true, position: { generation: 3, input: 1, line: 0 } },
    { tokens: ['b', 'ç'], eos: false, position: { generation: 3, input: 1, line: 9 } },
  ];
  const ops = statOpsOf(MODEL, 3, sentences);
  const want = new Set<string>();
  const wantRaw = new Map<string, number>();
  for (const s of sentences) {
    const words = ['<s>', ...s.tokens, ...(s.eos ? ['</s>'] : [])];
    for (let end = 0; end < words.length; end++) {
      for (let m = 1; m <= Math.min(3, end + 1); m++) {
        const w = words.slice(end + 1 - m, end + 1);
        if (m === 3 || w[0] === '<s>') {
          const hex = rawKey(MODEL, w).toString('hex');
          wantRaw.set(hex, (wantRaw.get(hex) ?? 0) + 1);
        }
        if (m >= 2) want.add(leftKey(MODEL, w.slice(1), w[0]!).toString('hex'));
      }
    }
  }
  want.add(firstKey(MODEL, 'a', { generation: 3, input: 1, line: 0, token: 0 }).toString('hex'));
  want.add(firstKey(MODEL, 'b', { generation: 3, input: 1, line: 0, token: 1 }).toString('hex'));
  want.add(firstKey(MODEL, 'ç', { generation: 3, input: 1, line: 9, token: 1 }).toString('hex'));
  t.deepEqual(new Map(ops.incrs.map((i) => [i.key.toString('hex'), i.delta])), wantRaw);
  t.deepEqual(new Set(ops.sets.map((k) => k.toString('hex'))), want);
  t.is(ops.sets.length, want.size, 'each set key once');
});
