// Acceptance: bad corpus lines and bad YAML through `dbslm pipeline run`. An invalid UTF-8 line
// and a line holding the reserved `<s>` (whitespace tokenizer) are skipped and listed as
// FILE:LINE in the summary, and the model is the one of the good lines; with strict: true the run
// exits 1 naming the first of them. A YAML error is reported as FILE:LINE:COL and nothing starts.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { assertSameLines, readArpaSections } from './helpers/arpa_compare.js';
import { BUNDLED_TRAIN } from './helpers/paths.js';
import { acceptDir, cliOk, dbslmAsync, runPipeline, writePipeline } from './helpers/pipeline_runs.js';

const dir = acceptDir();
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));

// 300 good lines of the bundled corpus, with the bad ones at lines 51 (invalid UTF-8) and 122 (<s>).
const good = fs.readFileSync(BUNDLED_TRAIN, 'utf8').split('\n').slice(0, 300);
const withBad = [...good];
withBad.splice(50, 0, '\u0000MARK');
withBad.splice(121, 0, 'and <s> was there');
const bytes = Buffer.from(withBad.join('\n') + '\n', 'utf8');
// The invalid byte: 0xff in place of the marker's NUL.
bytes[bytes.indexOf('\u0000MARK')] = 0xff;
fs.writeFileSync(path.join(dir, 'corpus.txt'), bytes);
fs.writeFileSync(path.join(dir, 'good.txt'), good.join('\n') + '\n');
const BAD = ['corpus.txt:51', 'corpus.txt:122'];

test.serial('bad lines are skipped and listed as file:line; the model is that of the good lines', async (t) => {
  const yaml = writePipeline(dir, 'bad', ['corpus.txt'], ['discount_fallback: true', 'store:', '  data: bad.store']);
  const { summary } = await runPipeline(yaml);
  t.is(summary.counting?.badLines, 2);
  t.is(summary.counting?.lines, withBad.length);
  const listed = (summary.counting?.firstBad ?? []) as unknown as { where: string; reason: string }[];
  t.deepEqual(listed.map((b) => path.basename(b.where)), BAD);
  t.regex(listed[0]!.reason, /invalid UTF-8/);
  t.regex(listed[1]!.reason, /<s> is reserved/);

  // The human summary says the same.
  const human = writePipeline(dir, 'human', ['corpus.txt'], ['discount_fallback: true', 'store:', '  data: human.store']);
  const text = await dbslmAsync(['pipeline', 'run', human]);
  t.is(text.code, 0, text.stderr);
  for (const where of BAD) t.regex(text.stdout + text.stderr, new RegExp(`bad line \\S*${where.replace('.', '\\.')}:`));

  const ref = path.join(dir, 'good.arpa');
  await cliOk(['build', '--order', '3', '--discount-fallback', '--arpa', ref, '--quiet', path.join(dir, 'good.txt')]);
  assertSameLines(t, readArpaSections(path.join(dir, 'bad.arpa')), readArpaSections(ref));
});

test.serial('with --set strict=true the run exits 1 naming the first bad line', async (t) => {
  const yaml = writePipeline(dir, 'strict', ['corpus.txt'], ['discount_fallback: true', 'store:', '  data: strict.store']);
  const r = await dbslmAsync(['pipeline', 'run', yaml, '--set', 'strict=true']);
  t.is(r.code, 1);
  t.regex(r.stderr, /corpus\.txt:51: invalid UTF-8 .*strict: true stops at the first bad line/);
  t.false(fs.existsSync(path.join(dir, 'strict.arpa')), 'no ARPA written');
});

test.serial('a YAML error is reported as file:line:col and nothing starts', async (t) => {
  const yaml = path.join(dir, 'broken.yaml');
  fs.writeFileSync(yaml, ['name: broken', 'inputs: [{ path: corpus.txt }]', 'order: three', 'store: { data: broken.store }', 'export: { arpa: broken.arpa }', ''].join('\n'));
  const r = await dbslmAsync(['pipeline', 'run', yaml]);
  t.is(r.code, 1);
  t.regex(r.stderr, /broken\.yaml:3:8 order: expected an integer from 1 to 10, got "three"/);
  t.regex(r.stderr, /nothing was started/);
  t.false(fs.existsSync(path.join(dir, 'broken.store')), 'no store data directory made');
  t.false(fs.existsSync(path.join(dir, 'broken.arpa')));

  fs.writeFileSync(yaml, ['name: broken', 'inputs: [{ path: corpus.txt }', 'order: 3', ''].join('\n'));
  const syntax = await dbslmAsync(['pipeline', 'run', yaml]);
  t.is(syntax.code, 1);
  t.regex(syntax.stderr, /broken\.yaml:\d+:\d+ \(syntax\)/);
  t.false(fs.existsSync(path.join(dir, 'broken.store')));
});
