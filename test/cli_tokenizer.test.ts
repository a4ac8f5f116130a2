// Every command that reads text against a model splits it with --tokenizer, as the model was
// built: raw text under `--tokenizer regex` must score exactly as its regex tokens, written out
// space-separated, score under `--tokenizer whitespace`.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tokenizeRegex } from '../model/tokenize_regex.js';
import { CLI } from './helpers/paths.js';
import { tempDir } from './helpers/temp_dir.js';

// Raw text: punctuation is glued to the words, so whitespace and regex splitting differ.
const TRAIN = [
  'In the beginning God created the heaven and the earth.',
  'And the earth was without form, and void; and darkness was upon the face of the deep.',
  'And the Spirit of God moved upon the face of the waters.',
  'And God said, Let there be light: and there was light.',
  'And God saw the light, that it was good: and God divided the light from the darkness.',
  'And God called the light Day, and the darkness he called Night.',
  'And the evening and the morning were the first day.',
  'And God said, Let there be a firmament in the midst of the waters.',
  'And God said, Let the waters under the heaven be gathered together unto one place.',
];
const HELD_OUT = ['And God said, Let the earth bring forth grass.', 'And the evening and the morning were the second day.'];

const dir = tempDir('dbslm-tokenizer-');
const model = path.join(dir, 'regex3.arpa');
const rawTest = path.join(dir, 'raw.txt');
const splitTest = path.join(dir, 'split.txt');

function dbslm(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test.before(() => {
  fs.writeFileSync(path.join(dir, 'train.txt'), TRAIN.join('\n') + '\n');
  fs.writeFileSync(rawTest, HELD_OUT.join('\n') + '\n');
  fs.writeFileSync(splitTest, HELD_OUT.map((line) => tokenizeRegex(line).join(' ')).join('\n') + '\n');
  const built = dbslm(['build', '-q', '--order', '3', '--tokenizer', 'regex', '--discount-fallback', '--arpa', model, path.join(dir, 'train.txt')]);
  if (built.code !== 0) throw new Error(`dbslm build failed (${built.code}): ${built.stderr}`);
});

test('quantize --test splits held-out lines with --tokenizer, and scores them as ppl does', (t) => {
  const ppl = dbslm(['ppl', '--arpa', model, '--tokenizer', 'regex', rawTest]);
  t.is(ppl.code, 0, ppl.stderr);
  const pplIncludingOov = /^Perplexity including OOVs:\t(\S+)$/m.exec(ppl.stdout)?.[1];
  t.not(pplIncludingOov, undefined, ppl.stdout);

  const raw = dbslm(['quantize', '--arpa', model, '--tokenizer', 'regex', '--test', rawTest]);
  t.is(raw.code, 0, raw.stderr);
  const before = /^perplexity: (\S+) -> /m.exec(raw.stdout)?.[1];
  t.is(before, pplIncludingOov, 'the unquantized perplexity is what ppl reports for the same text and tokenizer');

  const split = dbslm(['quantize', '--arpa', model, '--tokenizer', 'whitespace', '--test', splitTest]);
  t.is(split.code, 0, split.stderr);
  t.is(raw.stdout, split.stdout, 'raw text under regex scores as its tokens under whitespace');

  // Control: the text is one whose whitespace split differs, so the comparison above can fail.
  const wrong = dbslm(['quantize', '--arpa', model, '--tokenizer', 'whitespace', '--test', rawTest]);
  t.is(wrong.code, 0, wrong.stderr);
  t.not(wrong.stdout, raw.stdout);
});

test('topk splits --context with --tokenizer', (t) => {
  const raw = dbslm(['topk', '--arpa', model, '--tokenizer', 'regex', '--context', 'God said, Let']);
  t.is(raw.code, 0, raw.stderr);
  t.is(raw.stdout.split('\n')[0], 'context: ", Let"', 'an order-3 model keeps the last two tokens, the comma one of them');

  const split = dbslm(['topk', '--arpa', model, '--tokenizer', 'whitespace', '--context', 'God said , Let']);
  t.is(split.code, 0, split.stderr);
  t.is(raw.stdout, split.stdout);
});

test('topk --tokenizer regex still reads the default context <s> as the sentence start', (t) => {
  const regex = dbslm(['topk', '--arpa', model, '--tokenizer', 'regex']);
  t.is(regex.code, 0, regex.stderr);
  t.is(regex.stdout.split('\n')[0], 'context: "<s>"');
  const whitespace = dbslm(['topk', '--arpa', model, '--tokenizer', 'whitespace']);
  t.is(regex.stdout, whitespace.stdout);

  const leading = dbslm(['topk', '--arpa', model, '--tokenizer', 'regex', '--context', '<s> And']);
  t.is(leading.code, 0, leading.stderr);
  t.is(leading.stdout.split('\n')[0], 'context: "<s> And"', 'a leading <s> opens the sentence');
});
