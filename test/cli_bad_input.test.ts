// Bad input through the real CLI: each case exits with code 1 (an input error, not 70 for a
// failure of dbslm itself), names the file (and line), says what to do, and leaves no output
// file behind.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI } from './helpers/paths.js';
import { tempDir } from './helpers/temp_dir.js';

function tmp(): string {
  return tempDir('dbslm-bad-');
}

function run(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

function buildFails(t: import('ava').ExecutionContext, dir: string, args: string[], expect: RegExp) {
  const out = path.join(dir, 'out.arpa');
  const r = run(['build', '--arpa', out, ...args]);
  t.is(r.code, 1, `exit code; stderr: ${r.stderr}`);
  t.regex(r.stderr, expect);
  t.false(fs.existsSync(out), 'no ARPA written');
  t.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('out.arpa')), [], 'no temporary file left');
  return r;
}

test('invalid UTF-8 names the file and line', (t) => {
  const dir = tmp();
  const file = path.join(dir, 'latin1.txt');
  fs.writeFileSync(file, Buffer.concat([Buffer.from('good line\nbad '), Buffer.from([0xe9, 0x74, 0xe9]), Buffer.from('\n')]));
  const r = buildFails(t, dir, ['--order', '2', file], /latin1\.txt:2: invalid UTF-8/);
  t.regex(r.stderr, /iconv/);
});

test('a reserved token or a bad byte far into the corpus names its line, read whole or in the counting thread\'s pieces', (t) => {
  const dir = tmp();
  // ~600 KB: past the 256 KB pieces that --threads 2 reads and counts one at a time.
  const lines = Array.from({ length: 20000 }, (_, i) => `line ${i} of plain words here`);
  const reserved = path.join(dir, 'reserved.txt');
  fs.writeFileSync(reserved, [...lines.slice(0, 15000), 'a </s> inside', ...lines.slice(15000)].join('\n') + '\n');
  const bad = path.join(dir, 'bad.txt');
  fs.writeFileSync(bad, Buffer.concat([Buffer.from(lines.slice(0, 17000).join('\n') + '\nbad '), Buffer.from([0xff]), Buffer.from('\n')]));
  for (const threads of ['1', '2']) {
    buildFails(t, dir, ['--order', '2', '--threads', threads, reserved], /reserved\.txt:15001: the token <\/s> is reserved/);
    buildFails(t, dir, ['--order', '2', '--threads', threads, bad], /bad\.txt:17001: invalid UTF-8/);
  }
});

test('an empty corpus is refused', (t) => {
  const dir = tmp();
  const file = path.join(dir, 'empty.txt');
  fs.writeFileSync(file, '\n\n');
  buildFails(t, dir, ['--order', '3', file], /no words.*empty\.txt/);
});

for (const order of ['0', '11', '2.5']) {
  test(`order ${order} is outside 1..10`, (t) => {
    const dir = tmp();
    const file = path.join(dir, 'c.txt');
    fs.writeFileSync(file, 'a b c\n');
    buildFails(t, dir, ['--order', order, file], /--order must be a whole number from 1 to 10/);
  });
}

test('a missing input file is named', (t) => {
  const dir = tmp();
  buildFails(t, dir, ['--order', '3', path.join(dir, 'nope.txt')], /nope\.txt: no such file/);
});

test('too little text for modified Kneser-Ney names the order and the fallback', (t) => {
  const dir = tmp();
  const file = path.join(dir, 'tiny.txt');
  fs.writeFileSync(file, 'a b\n');
  buildFails(t, dir, ['--order', '2', file], /order 1.*\n.*--discount-fallback/);
  const out = path.join(dir, 'ok.arpa');
  t.is(run(['build', '--order', '2', '--discount-fallback', '--arpa', out, file]).code, 0);
  t.true(fs.existsSync(out));
});

const GOOD_ARPA = ['\\data\\', 'ngram 1=4', 'ngram 2=2', '', '\\1-grams:', '-1\t<unk>\t0', '0\t<s>\t-0.3', '-0.5\t</s>\t0', '-0.4\ta\t-0.2', '', '\\2-grams:', '-0.2\t<s> a', '-0.1\ta </s>', '', '\\end\\', ''];

function arpaFails(t: import('ava').ExecutionContext, lines: string[], expect: RegExp) {
  const dir = tmp();
  const model = path.join(dir, 'm.arpa');
  const test = path.join(dir, 'test.txt');
  fs.writeFileSync(model, lines.join('\n'));
  fs.writeFileSync(test, 'a\n');
  const r = run(['ppl', '--arpa', model, test]);
  t.is(r.code, 1, `exit code; stderr: ${r.stderr}`);
  t.regex(r.stderr, expect);
  t.is(r.stdout, '', 'no scores printed from a damaged model');
}

test('a well-formed ARPA scores (control for the damaged ones)', (t) => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'm.arpa'), GOOD_ARPA.join('\n'));
  fs.writeFileSync(path.join(dir, 't.txt'), 'a\n');
  const r = run(['ppl', '--arpa', path.join(dir, 'm.arpa'), path.join(dir, 't.txt')]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /Perplexity including OOVs:\t[\d.]+\nPerplexity excluding OOVs:\t[\d.]+\nOOVs:\t0\nTokens:\t2\n/);
});

test('an ARPA whose header count is wrong names the section and line', (t) => {
  arpaFails(t, GOOD_ARPA.map((l) => (l === 'ngram 2=2' ? 'ngram 2=3' : l)), /m\.arpa:15: section \\2-grams: has 2 entries but the \\data\\ header declares 3/);
});

test('a malformed ARPA line is named', (t) => {
  arpaFails(t, GOOD_ARPA.map((l) => (l === '-0.4\ta\t-0.2' ? 'x0.4\ta\t-0.2' : l)), /m\.arpa:9: malformed ARPA entry: log10 probability "x0.4"/);
  arpaFails(t, GOOD_ARPA.map((l) => (l === '-0.2\t<s> a' ? '-0.2\t<s>' : l)), /m\.arpa:12: malformed ARPA entry: a 2-gram entry has 1 words/);
});

test('a missing ARPA section is named', (t) => {
  const cut = GOOD_ARPA.slice(0, 10).concat(['\\end\\', '']);
  arpaFails(t, cut, /m\.arpa:\d+: expected section header \\2-grams: but found "\\end\\"/);
  arpaFails(t, GOOD_ARPA.slice(0, 13), /m\.arpa:13: missing \\end\\ at the end of the file/);
});

test('unknown tokenizer and unknown command explain themselves', (t) => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'c.txt'), 'a b\n');
  buildFails(t, dir, ['--order', '2', '--tokenizer', 'bpe', path.join(dir, 'c.txt')], /unknown tokenizer "bpe": valid tokenizers are whitespace, regex/);
  const model = path.join(dir, 'm.arpa');
  fs.writeFileSync(model, GOOD_ARPA.join('\n'));
  for (const command of [['ppl', path.join(dir, 'c.txt')], ['quantize'], ['topk']]) {
    const refused = run([...command, '--arpa', model, '--tokenizer', 'bpe']);
    t.is(refused.code, 1, `${command[0]}: ${refused.stderr}`);
    t.regex(refused.stderr, /unknown tokenizer "bpe": valid tokenizers are whitespace, regex/, command[0]);
  }
  const r = run(['frobnicate']);
  t.is(r.code, 1);
  t.regex(r.stderr, /Unknown argument: frobnicate/);
});
