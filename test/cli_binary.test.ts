// Binary models end to end through the command line, as child processes: `build --binary`,
// `convert` both ways, and every model-file command reading ARPA, gzipped ARPA or binary by
// content (the names here lie about the kind on purpose) with the same output from each.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { BUNDLED_TEST, BUNDLED_TRAIN, CLI } from './helpers/paths.js';
import { tempDir } from './helpers/temp_dir.js';

const dir = tempDir('dbslm-binary-cli-');
const at = (name: string): string => path.join(dir, name);

function dbslm(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(args: string[]): string {
  const r = dbslm(args);
  if (r.code !== 0) throw new Error(`dbslm ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

test.before(() => {
  ok(['build', '-q', '--order', '3', '--arpa', at('m.arpa'), '--binary', at('m.dbslm'), BUNDLED_TRAIN]);
  // The same models under names that say nothing (or the wrong thing) about their kind.
  fs.copyFileSync(at('m.dbslm'), at('binary-named.arpa'));
  fs.writeFileSync(at('gzip-named.model'), zlib.gzipSync(fs.readFileSync(at('m.arpa'))));
});

// Eight model files of a few MB each: removed, so that repeated runs do not fill the disk.
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));

test('convert turns the binary back into the ARPA written by the same build, byte for byte', (t) => {
  ok(['convert', '-q', at('m.dbslm'), at('back.arpa')]);
  t.true(fs.readFileSync(at('back.arpa')).equals(fs.readFileSync(at('m.arpa'))));
  // ARPA (gzipped, odd name) -> binary by --to: the same file `build --binary` wrote.
  ok(['convert', '-q', '--to', 'binary', at('gzip-named.model'), at('converted.bin')]);
  t.true(fs.readFileSync(at('converted.bin')).equals(fs.readFileSync(at('m.dbslm'))));
  const unnamed = dbslm(['convert', at('m.arpa'), at('out.model')]);
  t.is(unnamed.code, 1);
  t.regex(unnamed.stderr, /cannot tell the output format from the name "out\.model".*\n.*--to arpa or --to binary/);
});

test('ppl reads ARPA, gzipped ARPA and binary by content, through --model and --arpa, with identical output', (t) => {
  const want = ok(['ppl', '--per-sentence', '--model', at('m.arpa'), BUNDLED_TEST]);
  t.regex(want, /Perplexity including OOVs:/);
  for (const file of ['m.dbslm', 'binary-named.arpa', 'gzip-named.model']) {
    t.is(ok(['ppl', '--per-sentence', '--model', at(file), BUNDLED_TEST]), want, `--model ${file}`);
  }
  t.is(ok(['ppl', '--per-sentence', '--arpa', at('binary-named.arpa'), BUNDLED_TEST]), want, '--arpa takes a binary too');
});

test('sample, topk and quantize give the same output from the binary as from the ARPA (topk also from a follower index)', (t) => {
  for (const args of [
    ['sample', '--n', '5', '--seed', '11'],
    ['topk', '--k', '8', '--context', 'the LORD'],
    ['quantize', '--bits', '6', '--test', BUNDLED_TEST],
  ]) {
    const want = ok([...args, '--model', at('m.arpa')]);
    t.true(want.length > 0);
    t.is(ok([...args, '--model', at('m.dbslm')]), want, args[0]);
  }
  // A binary with a follower index answers topk from it, with the same output.
  ok(['convert', '-q', '--topk', '8', at('m.arpa'), at('topk.dbslm')]);
  for (const context of ['the LORD', 'unknownword the']) {
    const args = ['topk', '--k', '8', '--context', context];
    t.is(ok([...args, '--model', at('topk.dbslm')]), ok([...args, '--model', at('m.arpa')]), `topk --context "${context}"`);
  }
});

test('a quantized binary (convert --bits 8) scores as the quantized ARPA (quantize --out)', (t) => {
  ok(['quantize', '--bits', '8', '--model', at('m.dbslm'), '--out', at('q8.arpa')]);
  ok(['convert', '-q', '--bits', '8', at('m.arpa'), at('q8.dbslm')]);
  const want = ok(['ppl', '--per-sentence', '--model', at('q8.arpa'), BUNDLED_TEST]);
  t.is(ok(['ppl', '--per-sentence', '--model', at('q8.dbslm'), BUNDLED_TEST]), want);
  t.not(want, ok(['ppl', '--per-sentence', '--model', at('m.arpa'), BUNDLED_TEST]), 'quantizing changed the scores');
});

test('a corrupt or cut binary is refused: exit 1, one line naming the file and the damage, no stack trace', (t) => {
  const good = fs.readFileSync(at('m.dbslm'));
  const flipped = Buffer.from(good);
  flipped[good.length >> 1] ^= 1;
  fs.writeFileSync(at('flipped.dbslm'), flipped);
  fs.writeFileSync(at('cut.dbslm'), good.subarray(0, good.length >> 1));
  const checksum = /flipped\.dbslm: corrupt binary model: checksum mismatch/;
  for (const [args, what] of [
    [['ppl', '--model', at('flipped.dbslm'), BUNDLED_TEST], checksum],
    [['convert', at('flipped.dbslm'), at('never.arpa')], checksum],
    [['sample', '--model', at('cut.dbslm')], /cut\.dbslm: truncated binary model: \d+ bytes of the \d+ its header declares/],
    // ppl --model reads (and checksums) the file while its modules load (cli/io/model_prefetch.ts).
    [['ppl', '--model', at('cut.dbslm'), BUNDLED_TEST], /cut\.dbslm: truncated binary model: \d+ bytes of the \d+ its header declares/],
  ] as const) {
    const r = dbslm([...args]);
    t.is(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, what);
    t.notRegex(r.stderr, /at .*\.js:\d+/, 'no stack trace');
    t.is(r.stdout, '');
  }
  t.false(fs.existsSync(at('never.arpa')), 'nothing written from a refused input');
});

test('a model is named once: --model FILE or --arpa FILE, not neither', (t) => {
  const neither = dbslm(['ppl', BUNDLED_TEST]);
  t.is(neither.code, 1);
  t.regex(neither.stderr, /Name the model: --model FILE/);
  const both = dbslm(['sample', '--model', at('m.arpa'), '--arpa', at('m.dbslm')]);
  t.is(both.code, 1);
  t.regex(both.stderr, /Name the model file once/);
});
