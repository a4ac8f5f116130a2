// The memory-bounded build (`dbslm build --memory SIZE --temp DIR`, count_runs.ts): with a budget
// small enough to force many sorted runs, the model is byte-identical to the unbounded build's;
// the runs reached the disk; and no temporary file survives the build, a failed build, or a
// SIGTERM in the middle of counting.
import test, { type ExecutionContext } from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { buildModel, buildModelBounded } from '../model/build.js';
import { COUNT_BYTES_PER_NODE, nodesForBudget } from '../model/count_runs.js';
import { decodeUtf8, IdStream, readWhitespace } from '../model/corpus_read.js';
import { pruneThresholds } from '../model/prune.js';
import { seededRandom } from '../model/sample.js';
import { BOS, Vocab } from '../model/vocab.js';
import { corpusPieces } from '../cli/io/corpus_pieces.js';
import { arpaText } from './helpers/model_compare.js';
import { BUNDLED_TRAIN, CLI } from './helpers/paths.js';
import { tempDir } from './helpers/temp_dir.js';

const MB = 1 << 20;

function tmp(t: ExecutionContext): string {
  const dir = tempDir('dbslm-memory-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function corpusIds(file: string): { ids: Int32Array; vocab: Vocab } {
  const vocab = new Vocab();
  const stream = new IdStream();
  readWhitespace(decodeUtf8(fs.readFileSync(file), file), file, vocab, stream);
  return { ids: stream.view, vocab };
}

/** `ids` cut into about `n` pieces, each starting at a sentence start (<s>). */
function sentencePieces(ids: Int32Array, n: number): Int32Array[] {
  const pieces: Int32Array[] = [];
  let from = 0;
  for (let i = 1; i <= n; i++) {
    let to = Math.floor((ids.length * i) / n);
    while (to < ids.length && ids[to] !== BOS) to++;
    if (to > from) pieces.push(ids.subarray(from, to));
    from = to;
  }
  return pieces;
}

/** Lines of words drawn from a Zipf-like vocabulary: many distinct n-grams from little text. */
function syntheticCorpus(lines: number, seed: number): string {
  const random = seededRandom(seed);
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const words: string[] = [];
    const length = 4 + Math.floor(random() * 14);
    for (let j = 0; j < length; j++) words.push(`w${Math.floor(Math.exp(random() * Math.log(6000)))}`);
    out.push(words.join(' '));
  }
  return out.join('\n') + '\n';
}

for (const [order, prune] of [
  [4, null],
  [5, ['0', '1', '1']],
] as const) {
  test(`order ${order}${prune ? `, --prune ${prune.join(' ')}` : ''}: a 1 MB budget spills runs and gives the unbounded model byte for byte`, async (t) => {
    const dir = tmp(t);
    const options = { order, prune: pruneThresholds(prune ?? [], order) };
    const plain = corpusIds(BUNDLED_TRAIN);
    const unbounded = buildModel(plain.ids, plain.vocab, options);
    const { ids, vocab } = corpusIds(BUNDLED_TRAIN);
    const seen: { bytes: number; records: number }[] = [];
    // In pieces, as the CLI reads a corpus: pieces and spills fall at different sentence starts.
    const bounded = await buildModelBounded(sentencePieces(ids, 7), vocab, options, {
      budgetBytes: MB,
      tempDir: dir,
      onRun: (file, records) => seen.push({ bytes: fs.existsSync(file) ? fs.statSync(file).size : -1, records }),
    });
    const capacity = nodesForBudget(MB);
    t.true(capacity * COUNT_BYTES_PER_NODE <= MB, 'the counting table fits the budget');
    t.log(`${bounded.runs} runs of at most ${capacity} n-grams; ${unbounded.lm.trie.size - 1} n-grams in all`);
    t.true(bounded.runs >= 2, 'counting spilled');
    t.is(seen.length, bounded.runs);
    for (const run of seen) {
      t.true(run.records > 0 && run.records < capacity, `a run holds ${run.records} n-grams, within the table`);
      t.is(run.bytes, run.records * (order + 3) * 4, 'the run was on disk, whole, when reported');
    }
    t.deepEqual(fs.readdirSync(dir), [], 'no run left in the temporary directory');
    t.true(arpaText(bounded.lm).equals(arpaText(unbounded.lm)), 'the same ARPA bytes');
    t.deepEqual(bounded.counts, unbounded.counts);
  });
}

test('a budget the counts fit in writes no run and gives the same model', async (t) => {
  const dir = tmp(t);
  const plain = corpusIds(BUNDLED_TRAIN);
  const unbounded = buildModel(plain.ids, plain.vocab, { order: 3 });
  const { ids, vocab } = corpusIds(BUNDLED_TRAIN);
  const bounded = await buildModelBounded([ids], vocab, { order: 3 }, { budgetBytes: 256 * MB, tempDir: dir });
  t.is(bounded.runs, 0);
  t.deepEqual(fs.readdirSync(dir), []);
  t.true(arpaText(bounded.lm).equals(arpaText(unbounded.lm)));
});

function cli(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
}

test('CLI: --memory 1M --temp DIR writes the unbounded ARPA, reports its runs, and leaves DIR empty', (t) => {
  const dir = tmp(t);
  const temp = path.join(dir, 'temp');
  fs.mkdirSync(temp);
  const plain = path.join(dir, 'plain.arpa');
  const bounded = path.join(dir, 'bounded.arpa');
  t.is(cli(['build', '-q', '--order', '4', '--arpa', plain, BUNDLED_TRAIN]).status, 0);
  const r = cli(['build', '--order', '4', '--memory', '1M', '--temp', temp, '--arpa', bounded, BUNDLED_TRAIN]);
  t.is(r.status, 0, r.stderr);
  const runs = Number(/counting spilled (\d+) sorted runs/.exec(r.stderr)?.[1]);
  t.true(runs >= 2, `runs reported: ${r.stderr}`);
  t.true(fs.readFileSync(bounded).equals(fs.readFileSync(plain)), 'byte-identical ARPA');
  t.deepEqual(fs.readdirSync(temp), [], 'nothing left in --temp');
});

test('CLI: a build that fails after spilling leaves --temp empty', (t) => {
  const dir = tmp(t);
  const temp = path.join(dir, 'temp');
  fs.mkdirSync(temp);
  // Every line twice: too few n-grams occur once for valid discounts, found only after counting (and spilling).
  const text = syntheticCorpus(3000, 5);
  const corpus = path.join(dir, 'twice.txt');
  fs.writeFileSync(corpus, text + text);
  const r = cli(['build', '--order', '3', '--memory', '1M', '--temp', temp, '--arpa', path.join(dir, 'out.arpa'), corpus]);
  t.is(r.status, 1, r.stderr);
  t.regex(r.stderr, /cannot estimate modified Kneser-Ney discounts for order/);
  t.deepEqual(fs.readdirSync(temp), []);
  t.false(fs.existsSync(path.join(dir, 'out.arpa')));
});

test('CLI: SIGTERM while counting spills removes the runs and the temporary directory', async (t) => {
  const dir = tmp(t);
  const temp = path.join(dir, 'temp');
  fs.mkdirSync(temp);
  const corpus = path.join(dir, 'synthetic.txt');
  fs.writeFileSync(corpus, syntheticCorpus(60000, 9));
  const child = spawn(process.execPath, [CLI, 'build', '-q', '--order', '5', '--memory', '1M', '--temp', temp, '--arpa', path.join(dir, 'out.arpa'), corpus], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  // The private run directory exists from the start of counting to the end of the merge.
  let sawRunDir = false;
  for (let i = 0; i < 1000 && !sawRunDir && child.exitCode === null; i++) {
    sawRunDir = fs.readdirSync(temp).some((f) => f.startsWith('dbslm-build-'));
    if (!sawRunDir) await new Promise((r) => setTimeout(r, 10));
  }
  t.true(sawRunDir, `the build made its run directory before it ended (stderr: ${stderr})`);
  await new Promise((r) => setTimeout(r, 200));
  child.kill('SIGTERM');
  const end = await exited;
  t.is(end.code, 143, `exit code 128 + SIGTERM; signal ${end.signal}; stderr: ${stderr}`);
  t.deepEqual(fs.readdirSync(temp), [], 'nothing left in --temp');
  t.false(fs.existsSync(path.join(dir, 'out.arpa')));
});

test('CLI: bad --memory and --temp are refused', (t) => {
  const dir = tmp(t);
  for (const [args, expect] of [
    [['--memory', 'lots'], /--memory: bad size "lots"/],
    [['--memory', '100'], /--memory: bad size "100"/],
    [['--temp', dir], /--temp is only used with --memory/],
    [['--memory', '10M', '--temp', path.join(dir, 'missing')], /cannot create a temporary directory in .*missing/],
  ] as const) {
    const r = cli(['build', '--order', '3', ...args, '--arpa', path.join(dir, 'out.arpa'), BUNDLED_TRAIN]);
    t.is(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, expect);
  }
  t.deepEqual(fs.readdirSync(dir), []);
});

test('reading in pieces (build --memory): the ids, vocabulary and records of reading whole, plain or gzipped; errors name the input line', async (t) => {
  const dir = tmp(t);
  const whole = corpusIds(BUNDLED_TRAIN);
  const gz = path.join(dir, 'train.txt.gz');
  fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(BUNDLED_TRAIN)));
  for (const file of [BUNDLED_TRAIN, gz]) {
    const vocab = new Vocab();
    const totals = { ids: 0, sentences: 0, bytes: 0 };
    const parts: Int32Array[] = [];
    for await (const piece of corpusPieces([file], 'whitespace', vocab, totals, undefined, 16 << 10)) {
      t.is(piece[0], BOS, 'every piece starts a record');
      parts.push(piece.slice());
    }
    t.true(parts.length > 10, `${parts.length} pieces`);
    const ids = new Int32Array(totals.ids);
    let at = 0;
    for (const part of parts) (ids.set(part, at), (at += part.length));
    t.deepEqual(ids, whole.ids.slice(), path.basename(file));
    t.is(vocab.size, whole.vocab.size);
    t.is(vocab.word(vocab.size - 1), whole.vocab.word(whole.vocab.size - 1));
  }
  // A bad byte and a reserved token far past the first piece are reported at their input lines.
  const lines = fs.readFileSync(BUNDLED_TRAIN, 'utf8').split('\n');
  const bad = path.join(dir, 'bad.txt');
  fs.writeFileSync(bad, Buffer.concat([Buffer.from(lines.slice(0, 2000).join('\n') + '\nin the ', 'utf8'), Buffer.from([0xff, 10])]));
  const reserved = path.join(dir, 'reserved.txt');
  fs.writeFileSync(reserved, lines.slice(0, 2300).join('\n') + '\nthe <s> here\n');
  for (const [file, expect] of [
    [bad, /bad\.txt:2001: invalid UTF-8/],
    [reserved, /reserved\.txt:2301: the token <s> is reserved/],
  ] as const) {
    const pieces = corpusPieces([file], 'whitespace', new Vocab(), { ids: 0, sentences: 0, bytes: 0 }, undefined, 16 << 10);
    const error = await t.throwsAsync(async () => {
      for await (const piece of pieces) void piece;
    });
    t.regex(String(error), expect);
  }
});
