// The read stage over real files: batches of lines with byte offsets and line numbers, the same
// for a file and its .gz, deterministic batch offsets that `skip` and `only` name, invalid UTF-8
// reported as file:line and skipped, the unterminated last line flagged, directories expanded.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { of } from 'rxjs';
import zlib from 'node:zlib';
import type { InputDefinition } from '../pipeline/definition/definition.js';
import { decodeStageMessage, encodeStageMessage, type LineBatch, type ReadTask } from '../schemas/pipeline.js';
import { read } from '../stages/read.js';
import { listReadTasks } from '../stages/read_tasks.js';
import { BUNDLED_TRAIN } from './helpers/paths.js';
import { runStage, tempFiles } from './helpers/stages.js';

function task(file: string, batch: number, extra: Partial<ReadTask> = {}): ReadTask {
  return { generation: 1, input: 0, path: file, written: path.basename(file), format: 'text', config: null, batch, skip: [], only: null, ...extra };
}

const readAll = (t: ReadTask): Promise<LineBatch[]> => runStage(read(), [t]);

/** The file's lines as an independent reader sees them: text, byte offset, number. */
function expectedLines(bytes: Buffer): { offset: number; line: number; text: string }[] {
  const out: { offset: number; line: number; text: string }[] = [];
  let offset = 0;
  const parts = bytes.toString('utf8').split('\n');
  if (parts[parts.length - 1] === '') parts.pop();
  parts.forEach((text, i) => {
    out.push({ offset, line: i + 1, text });
    offset += Buffer.byteLength(text) + 1;
  });
  return out;
}

test('a text file is read as batches of `batch` lines with byte offsets and line numbers', async (t) => {
  const bytes = fs.readFileSync(BUNDLED_TRAIN);
  const batches = await readAll(task(BUNDLED_TRAIN, 100));
  const expected = expectedLines(bytes);
  t.deepEqual(batches.flatMap((b) => b.lines), expected);
  t.is(batches.length, Math.ceil(expected.length / 100));
  for (const [k, b] of batches.entries()) {
    t.is(b.offset, expected[k * 100]!.offset, 'a batch is named by its first line');
    t.is(b.lines.length, Math.min(100, expected.length - k * 100));
    t.false(b.lastUnterminated);
    t.deepEqual(b.bad, []);
    // Every offset points at the line's bytes in the file.
    for (const l of b.lines.slice(0, 3)) t.is(bytes.toString('utf8', l.offset, l.offset + Buffer.byteLength(l.text)), l.text);
  }
});

test('lines longer than a read chunk and multi-byte characters across chunk ends keep their bytes and offsets', async (t) => {
  const long = 'é'.repeat(70_000) + ' end';
  const text = `short\n${long}\n\n${'x '.repeat(50_000)}\nlast\n`;
  const dir = tempFiles({ 'long.txt': text });
  const batches = await readAll(task(path.join(dir, 'long.txt'), 2));
  t.deepEqual(batches.flatMap((b) => b.lines), expectedLines(Buffer.from(text)));
  t.deepEqual(batches.map((b) => b.lines.length), [2, 2, 1]);
});

test('a .gz file gives the same batches as the plain file, offsets in the uncompressed text', async (t) => {
  const bytes = fs.readFileSync(BUNDLED_TRAIN);
  const dir = tempFiles({ 'kjv.txt.gz': zlib.gzipSync(bytes), 'kjv.txt': bytes });
  const plain = await readAll(task(path.join(dir, 'kjv.txt'), 64));
  const gz = await readAll(task(path.join(dir, 'kjv.txt.gz'), 64));
  t.deepEqual(gz.map(({ file, ...rest }) => rest), plain.map(({ file, ...rest }) => rest));
  t.true(plain.length > 10);
});

test('a corrupt .gz and a missing file are errors naming the file', async (t) => {
  const dir = tempFiles({ 'bad.txt.gz': Buffer.from('not gzip at all\n') });
  const corrupt = await t.throwsAsync(readAll(task(path.join(dir, 'bad.txt.gz'), 10)));
  t.regex(corrupt!.message, /^bad\.txt\.gz: not a valid gzip file/);
  const missing = await t.throwsAsync(readAll(task(path.join(dir, 'missing.txt'), 10)));
  t.regex(missing!.message, /^missing\.txt: cannot read: no such file/);
});

test('an invalid UTF-8 line is reported as file:line and skipped; the lines around it keep their numbers', async (t) => {
  const bytes = Buffer.concat([Buffer.from('one two\nthree\n'), Buffer.from([0x66, 0xff, 0x6f, 0x0a]), Buffer.from('four\nfive\n')]);
  const dir = tempFiles({ 'latin.txt': bytes });
  const batches = await readAll(task(path.join(dir, 'latin.txt'), 10));
  t.is(batches.length, 1);
  t.deepEqual(batches[0]!.lines.map((l) => [l.line, l.text]), [[1, 'one two'], [2, 'three'], [4, 'four'], [5, 'five']]);
  t.is(batches[0]!.bad.length, 1);
  t.is(batches[0]!.bad[0]!.where, 'latin.txt:3');
  t.regex(batches[0]!.bad[0]!.reason, /invalid UTF-8 \(byte 0xff at byte 2 of the line\).*iconv/);
  t.is(batches[0]!.lines[2]!.offset, 18, 'offsets count the bad line\'s bytes');
});

test('batch offsets are deterministic, and skip and only pick batches by offset', async (t) => {
  const file = BUNDLED_TRAIN;
  const first = await readAll(task(file, 250));
  const again = await readAll(task(file, 250));
  t.deepEqual(again.map((b) => b.offset), first.map((b) => b.offset));
  const offsets = first.map((b) => b.offset);
  const skip = [offsets[0]!, offsets[3]!, offsets[offsets.length - 1]!];
  const resumed = await readAll(task(file, 250, { skip }));
  t.deepEqual(resumed.map((b) => b.offset), offsets.filter((o) => !skip.includes(o)));
  const redelivered = await readAll(task(file, 250, { only: [offsets[5]!, offsets[2]!] }));
  t.deepEqual(redelivered, [first[2], first[5]]);
  // A resumed run plus a redelivery of what it skipped is the whole file.
  const replayed = await readAll(task(file, 250, { only: skip }));
  t.deepEqual([...resumed, ...replayed].sort((a, b) => a.offset - b.offset), first);
  t.deepEqual(await readAll(task(file, 250, { only: [] })), []);
});

test('a last line without a final newline is flagged on the batch holding it', async (t) => {
  const dir = tempFiles({ 'open.txt': 'a b\nc d\ne f', 'closed.txt': 'a b\nc d\ne f\n', 'bad_end.txt': Buffer.from([0x61, 0x0a, 0xff]) });
  const open = await readAll(task(path.join(dir, 'open.txt'), 2));
  t.deepEqual(open.map((b) => b.lastUnterminated), [false, true]);
  t.deepEqual(open[1]!.lines, [{ offset: 8, line: 3, text: 'e f' }]);
  const closed = await readAll(task(path.join(dir, 'closed.txt'), 2));
  t.deepEqual(closed.map((b) => b.lastUnterminated), [false, false]);
  t.deepEqual(closed.flatMap((b) => b.lines), open.flatMap((b) => b.lines));
  // A bad unterminated line is not emitted, so no emitted sentence may lose its </s>.
  const badEnd = await readAll(task(path.join(dir, 'bad_end.txt'), 5));
  t.false(badEnd[0]!.lastUnterminated);
  t.is(badEnd[0]!.bad[0]!.where, 'bad_end.txt:2');
});

test('listReadTasks: a directory becomes its files, recursively, in name order, hidden ones skipped; each file one input', (t) => {
  const dir = tempFiles({ 'corpus/b.txt': 'b\n', 'corpus/a/z.txt': 'z\n', 'corpus/a/.hidden.txt': 'h\n', 'corpus/.git/x.txt': 'x\n', 'corpus/c.txt.gz': zlib.gzipSync('c\n'), 'one.txt': '1\n' });
  const inputs: InputDefinition[] = [
    { path: path.join(dir, 'one.txt'), written: 'one.txt', format: 'text', config: null },
    { path: path.join(dir, 'corpus'), written: 'corpus', format: 'text', config: null },
  ];
  const tasks = listReadTasks(inputs, 3, 500);
  t.deepEqual(
    tasks.map((x) => [x.input, path.relative(dir, x.path), x.written]),
    [
      [0, 'one.txt', 'one.txt'],
      [1, path.join('corpus', 'a', 'z.txt'), path.join('corpus', 'a', 'z.txt')],
      [2, path.join('corpus', 'b.txt'), path.join('corpus', 'b.txt')],
      [3, path.join('corpus', 'c.txt.gz'), path.join('corpus', 'c.txt.gz')],
    ],
  );
  t.true(tasks.every((x) => x.generation === 3 && x.batch === 500 && x.only === null && x.skip.length === 0 && x.config === null));
  const missing = t.throws(() => listReadTasks([{ path: path.join(dir, 'nope'), written: 'nope', format: 'text', config: null }], 1, 10));
  t.regex(missing!.message, /nope: no such file or directory/);
});

test('listReadTasks: an NDJSON file gets the dataset config beside it, or an error naming what was tried', (t) => {
  const dir = tempFiles({ 'd/pairs.train.ndjson': '{}\n', 'd/pairs.config.json': '{}', 'e/orphan.train.ndjson': '{}\n' });
  const [found] = listReadTasks([{ path: path.join(dir, 'd', 'pairs.train.ndjson'), written: 'd/pairs.train.ndjson', format: 'ndjson', config: null }], 1, 10);
  t.is(found!.config, path.join(dir, 'd', 'pairs.config.json'));
  const orphan = t.throws(() => listReadTasks([{ path: path.join(dir, 'e', 'orphan.train.ndjson'), written: 'e/orphan.train.ndjson', format: 'ndjson', config: null }], 1, 10));
  t.regex(orphan!.message, /e\/orphan\.train\.ndjson: no dataset config found .*orphan\.train\.config\.json, orphan\.config\.json/);
});

test('a ReadTask and the batches read survive the stage message encoding', async (t) => {
  const rt = task(BUNDLED_TRAIN, 1000, { skip: [0], only: [2 ** 40] });
  // Decoded values are avsc records; compare their plain data.
  const plain = (x: unknown): unknown => JSON.parse(JSON.stringify(x));
  const decoded = decodeStageMessage(encodeStageMessage('ReadTask', rt));
  t.is(decoded.name, 'ReadTask');
  t.deepEqual(plain(decoded.value), rt);
  const [batch] = await readAll(task(BUNDLED_TRAIN, 1000));
  t.deepEqual(plain(decodeStageMessage(encodeStageMessage('LineBatch', batch)).value), batch);
});

test('a whole-input task reads a new batch only once `room` resolves; a redelivery (only) never waits for it', async (t) => {
  const dir = tempFiles({ 'r.txt': Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n') + '\n' });
  const file = path.join(dir, 'r.txt');
  let rooms = 0;
  let open: () => void = () => undefined;
  const room = () => {
    rooms++;
    return new Promise<void>((resolve) => (open = resolve));
  };
  const got: LineBatch[] = [];
  const done = new Promise<void>((resolve, reject) => read(room)(of(task(file, 4))).subscribe({ next: (b) => got.push(b), error: reject, complete: resolve }));
  // Waits until the reader asks for room again (or ends): then what it emitted is settled.
  const asked = async (n: number) => {
    while (rooms < n && got.length < 5) await new Promise((r) => setTimeout(r, 5));
  };
  await asked(1);
  t.deepEqual([rooms, got.length], [1, 0], 'the first batch waits for room');
  for (let n = 1; n <= 5; n++) {
    open();
    await asked(n + 1);
    t.is(got.length, n, `batch ${n} out, the next one waiting`);
  }
  await done;
  t.is(rooms, 5, 'one wait per batch');
  t.deepEqual(got.map((b) => b.lines.length), [4, 4, 4, 4, 4]);
  const offsets = got.map((b) => b.offset);
  const redelivered = await runStage(read(() => new Promise<void>(() => undefined)), [task(file, 4, { only: [offsets[1]!, offsets[3]!] })]);
  t.deepEqual(redelivered.map((b) => b.offset), [offsets[1], offsets[3]]);
});
