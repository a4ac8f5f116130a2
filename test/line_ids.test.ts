// Test text to word ids (model/line_ids.ts): the byte path `ppl` takes for whitespace-split text
// gives the ids the string path gives (readLines, tokenizeWhitespace, Vocab.lookup), line by line,
// whatever the blanks, line ends, unknown words and special tokens; invalid UTF-8 names its line.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { ByteWordIndex } from '../model/byte_words.js';
import { lineToIds, whitespaceLineIds } from '../model/line_ids.js';
import { tokenizeWhitespace } from '../model/tokenizer.js';
import { Vocab } from '../model/vocab.js';
import { readLines } from '../cli/io/inputs.js';
import { tempDir } from './helpers/temp_dir.js';

const tmp = tempDir('dbslm-line-ids-');
test.after.always(() => fs.rmSync(tmp, { recursive: true, force: true }));

const vocab = new Vocab();
for (const w of ['in', 'the', 'beginning', 'God', 'créé', '日本']) vocab.intern(w);

const texts: Record<string, string> = {
  plain: 'in the beginning\nGod the\n',
  'no final newline': 'in the\nbeginning',
  empty: '',
  'one newline': '\n',
  'blank lines and runs of blanks': '\n\n  in\t\tthe \r\n\u000bGod\u000c the\u0000beginning \n\n',
  'unknown words, specials and multi-byte words': 'créé unknown <s> </s> <unk> 日本 日本語\ncré\n',
};

for (const [name, text] of Object.entries(texts)) {
  test(`the byte path equals the string path: ${name}`, (t) => {
    const file = path.join(tmp, `${name.replace(/\W+/g, '_')}.txt`);
    fs.writeFileSync(file, text);
    const expected = readLines(file).map((line) => lineToIds(vocab, tokenizeWhitespace, line));
    for (const words of [new ByteWordIndex(vocab), ByteWordIndex.ofList(Buffer.from(vocab.words.join('\n')))]) {
      const { ids, ends } = whitespaceLineIds(fs.readFileSync(file), file, words);
      const lines = Array.from(ends, (end, i) => Array.from(ids.subarray(i === 0 ? 0 : ends[i - 1], end)));
      t.deepEqual(lines, expected);
    }
  });
}

test('invalid UTF-8 in test text names its line', (t) => {
  const bytes = Buffer.concat([Buffer.from('in the\nthe '), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]);
  const err = t.throws(() => whitespaceLineIds(bytes, 'bad.txt', new ByteWordIndex(vocab)));
  t.regex(err!.message, /bad\.txt:2: invalid UTF-8/);
});

test('a word list with a word twice is refused', (t) => {
  t.throws(() => ByteWordIndex.ofList(Buffer.from('<unk>\n<s>\n</s>\na\nb\na')), { message: /word 5 "a" repeats an earlier word/ });
});
