// The split stage: the tokens training sees (equal to model/corpus_read.ts for the same text),
// reserved tokens skipped and counted or fatal with strict, and NDJSON records framed by their
// dataset config.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { from, take } from 'rxjs';
import { decodeUtf8, IdStream, readTokenized, readWhitespace } from '../model/corpus_read.js';
import { tokenizeRegex } from '../model/tokenize_regex.js';
import type { TokenizerName } from '../model/tokenizer.js';
import { BOS, EOS, Vocab } from '../model/vocab.js';
import type { LineBatch, ReadTask, SentenceBatch } from '../schemas/pipeline.js';
import { read } from '../stages/read.js';
import { listReadTasks } from '../stages/read_tasks.js';
import { split } from '../stages/split.js';
import { BUNDLED_TRAIN, SHARED } from './helpers/paths.js';
import { runStage, tempFiles } from './helpers/stages.js';

function task(file: string, batch: number, extra: Partial<ReadTask> = {}): ReadTask {
  return { generation: 1, input: 0, path: file, written: path.basename(file), format: 'text', config: null, batch, skip: [], only: null, ...extra };
}

async function sentencesOf(t: ReadTask, tokenizer: TokenizerName, strict = false): Promise<SentenceBatch[]> {
  return runStage(split({ tokenizer, strict }), await runStage(read(), [t]));
}

/** The id stream the in-process reader builds from split's sentences: <s> tokens [</s>] each. */
function idsOf(batches: readonly SentenceBatch[]): { ids: Int32Array; words: string[] } {
  const vocab = new Vocab();
  const out = new IdStream();
  for (const s of batches.flatMap((b) => b.sentences)) {
    out.push(BOS);
    for (const w of s.tokens) out.push(vocab.intern(w));
    if (s.eos) out.push(EOS);
  }
  return { ids: out.view, words: vocab.words };
}

function inProcess(text: string, tokenizer: TokenizerName): { ids: Int32Array; words: string[] } {
  const vocab = new Vocab();
  const out = new IdStream();
  if (tokenizer === 'whitespace') readWhitespace(text, 'x', vocab, out);
  else readTokenized(text, 'x', tokenizeRegex, vocab, out);
  return { ids: out.view, words: vocab.words };
}

// Separators lmplz uses and ones it does not (\v, \f stay inside words), empty and blank lines,
// punctuation for the regex tokenizer, and no final newline.
const TRICKY = 'a b\tc\r\n\nword\vtab\fform  x\0y\n   \n"Hello," she said -- don\'t; 3.14 |USER|: ok\nlast line';

for (const tokenizer of ['whitespace', 'regex'] as const) {
  test(`${tokenizer}: split's sentences are the in-process reader's token stream (kjv.sample.txt and edge cases)`, async (t) => {
    const dir = tempFiles({ 'tricky.txt': TRICKY });
    for (const file of [BUNDLED_TRAIN, path.join(dir, 'tricky.txt')]) {
      const batches = await sentencesOf(task(file, 97), tokenizer);
      const expected = inProcess(decodeUtf8(fs.readFileSync(file), file), tokenizer);
      const got = idsOf(batches);
      t.deepEqual(got.words, expected.words, file);
      t.deepEqual(got.ids, expected.ids, file);
      t.is(batches.reduce((n, b) => n + b.lines, 0), batches.reduce((n, b) => n + b.sentences.length, 0));
    }
  });
}

test('each sentence carries its line\'s offset; only the unterminated last line has no </s>', async (t) => {
  const dir = tempFiles({ 'f.txt': 'a b\n\nc' });
  const [batch] = await sentencesOf(task(path.join(dir, 'f.txt'), 10), 'whitespace');
  t.deepEqual(batch!.sentences, [
    { offset: 0, tokens: ['a', 'b'], eos: true },
    { offset: 4, tokens: [], eos: true },
    { offset: 5, tokens: ['c'], eos: false },
  ]);
});

test('a line with a reserved token is skipped and counted with file:line; strict makes it an error naming both', async (t) => {
  const dir = tempFiles({ 'r.txt': 'fine line\nsays <s> here\nok\nand </s>\n<unk>\n' });
  const file = path.join(dir, 'r.txt');
  const batches = await sentencesOf(task(file, 2), 'whitespace');
  t.deepEqual(batches.flatMap((b) => b.sentences.map((s) => s.tokens.join(' '))), ['fine line', 'ok']);
  t.deepEqual(batches.flatMap((b) => b.bad.map((x) => x.where)), ['r.txt:2', 'r.txt:4', 'r.txt:5']);
  t.regex(batches[0]!.bad[0]!.reason, /^the token <s> is reserved/);
  t.deepEqual(batches.map((b) => b.lines), [2, 2, 1]);
  const strict = await t.throwsAsync(sentencesOf(task(file, 2), 'whitespace', true));
  t.regex(strict!.message, /^r\.txt:2: the token <s> is reserved .*remove it/);
  t.is(strict!.name, 'InputError');
});

test('strict stops at an invalid UTF-8 line that read passed along, naming file:line', async (t) => {
  const dir = tempFiles({ 'u.txt': Buffer.concat([Buffer.from('ok\nalso ok\n'), Buffer.from([0xc3, 0x28, 0x0a])]) });
  const lenient = await sentencesOf(task(path.join(dir, 'u.txt'), 10), 'regex');
  t.is(lenient[0]!.sentences.length, 2);
  t.is(lenient[0]!.lines, 3);
  const strict = await t.throwsAsync(sentencesOf(task(path.join(dir, 'u.txt'), 10), 'regex', true));
  t.regex(strict!.message, /^u\.txt:3: invalid UTF-8 \(byte 0xc3/);
});

const CONFIG = {
  name: 'qa',
  prompt_field: 'q',
  prompt_label: '|USER|',
  response_field: 'a',
  response_label: '|RESPONSE|:',
  context_fields: [
    { field: 'book', label: 'Book', token_name: 'book', canonical_tag: '|CTX|' },
    { field: 'topic', label: 'Topic', token_name: 'topic', placement: 'before_prompt' },
  ],
  notes: 'unknown fields are allowed',
};

test('NDJSON records are framed by their dataset config; bad records are skipped and counted', async (t) => {
  const records = [
    JSON.stringify({ q: 'Who made it?', a: "God did, it's said.", book: 'Ge', topic: 'first things', extra: 1 }),
    JSON.stringify({ q: 'Only a question', book: 'Ex', topic: 't' }),
    '{"q": "broken',
    '',
    JSON.stringify({ q: 'Numbers', a: 'count', book: 4, topic: 'arith' }),
    JSON.stringify(['a', 'list']),
    JSON.stringify({ q: 'a <s> b', a: 'x', book: 'Ge', topic: 't' }),
    JSON.stringify({ q: 'obj', a: { nested: true }, book: 'Ge', topic: 't' }),
  ];
  const dir = tempFiles({ 'qa.train.ndjson': records.join('\n') + '\n', 'qa.config.json': JSON.stringify(CONFIG) });
  const [rt] = listReadTasks([{ path: path.join(dir, 'qa.train.ndjson'), written: 'qa.train.ndjson', format: 'ndjson', config: null }], 1, 100);
  for (const tokenizer of ['regex', 'whitespace'] as const) {
    const [batch] = await runStage(split({ tokenizer, strict: false }), await runStage(read(), [rt!]));
    const tokenize = tokenizer === 'regex' ? tokenizeRegex : (s: string) => s.split(' ').filter(Boolean);
    // The framing, written out as text and tokenized independently of the stage.
    const framed = (q: string, a: string, book: string, topic: string) => [`|CTX|:topic:${topic}`, '|USER|:', ...tokenize(q), `|CTX|:book:${book}`, '|RESPONSE|:', ...tokenize(a), '|END|'];
    // The regex tokenizer splits `<s>` into `<`, `s`, `>`, so only whitespace text can hold a reserved token.
    const reservedIsBad = tokenizer === 'whitespace';
    t.deepEqual(
      batch!.sentences.map((s) => s.tokens),
      [framed('Who made it?', "God did, it's said.", 'Ge', 'first_things'), framed('Numbers', 'count', '4', 'arith'), ...(reservedIsBad ? [] : [framed('a <s> b', 'x', 'Ge', 't')])],
      tokenizer,
    );
    if (tokenizer === 'regex') {
      t.deepEqual(batch!.sentences[0]!.tokens, tokenizeRegex(`|CTX|:topic:first_things |USER|: Who made it? |CTX|:book:Ge |RESPONSE|: God did, it's said. |END|`));
    }
    t.is(batch!.sentences[1]!.offset, Buffer.byteLength(records.slice(0, 4).join('\n')) + 1);
    t.deepEqual(
      batch!.bad.map((b) => [b.where, b.reason.replace(/:.*/s, '')]),
      [
        ['qa.train.ndjson:2', 'the record has no field "a", which the dataset config names'],
        ['qa.train.ndjson:3', 'not valid JSON'],
        ['qa.train.ndjson:6', 'not a JSON object (an NDJSON line is one record)'],
        ...(reservedIsBad ? [['qa.train.ndjson:7', 'the token <s> is reserved (it marks sentence starts, ends and unknown words); remove it from the training text or replace it, as KenLM also refuses it']] : []),
        ['qa.train.ndjson:8', 'field "a" is an object, not text'],
      ],
    );
    t.is(batch!.lines, records.length);
  }
  const strict = await t.throwsAsync(runStage(split({ tokenizer: 'regex', strict: true }), await runStage(read(), [rt!])));
  t.regex(strict!.message, /^qa\.train\.ndjson:2: the record has no field "a"/);
});

test('an instruction field is framed first as |INSTRUCTION|:, left out when blank, and a record lacking it is bad', async (t) => {
  const config = { prompt_field: 'input', prompt_label: '|USER|', response_field: 'output', response_label: '|RESPONSE|', instruction_field: 'instruction', context_fields: [{ field: 'lang', label: 'Language', token_name: 'lang', placement: 'before_prompt' }] };
  const records = [
    JSON.stringify({ instruction: 'Summarize the text.', input: 'It is long.', output: 'Short.', lang: 'en' }),
    JSON.stringify({ instruction: '  ', input: 'Hello', output: 'Hi', lang: 'en' }),
    JSON.stringify({ input: 'no instruction', output: 'x', lang: 'en' }),
  ];
  const dir = tempFiles({ 'tasks.ndjson': records.join('\n') + '\n', 'tasks.config.json': JSON.stringify(config) });
  const [rt] = listReadTasks([{ path: path.join(dir, 'tasks.ndjson'), written: 'tasks.ndjson', format: 'ndjson', config: null }], 1, 100);
  const [batch] = await runStage(split({ tokenizer: 'regex', strict: false }), await runStage(read(), [rt!]));
  // The same framing written as text and tokenized by the regex tokenizer, independently of the stage.
  t.deepEqual(batch!.sentences.map((s) => s.tokens), [
    tokenizeRegex('|INSTRUCTION|: Summarize the text. |CTX|:lang:en |USER|: It is long. |RESPONSE|: Short. |END|'),
    tokenizeRegex('|CTX|:lang:en |USER|: Hello |RESPONSE|: Hi |END|'),
  ]);
  t.deepEqual(batch!.bad.map((b) => [b.where, b.reason]), [['tasks.ndjson:3', 'the record has no field "instruction", which the dataset config names']]);
});

test('an NDJSON input whose dataset config is invalid is an error naming the config and the problem', async (t) => {
  const dir = tempFiles({ 'x.ndjson': '{"q": "a"}\n', 'x.config.json': JSON.stringify({ prompt_field: 'q', prompt_label: '', response_field: 'a', response_label: 'R' }) });
  const rt: ReadTask = { ...task(path.join(dir, 'x.ndjson'), 10), format: 'ndjson', config: path.join(dir, 'x.config.json') };
  const error = await t.throwsAsync(runStage(split({ tokenizer: 'regex', strict: false }), await runStage(read(), [rt])));
  t.regex(error!.message, /^x\.ndjson: its dataset config .*x\.config\.json cannot be used:\n.*prompt_label/);
});

const PAIRS = path.join(SHARED, 'corpora', 'kjv.pairs.train.ndjson');
test(`real KJV pairs are framed as |USER|: verse |CTX|:book:B |RESPONSE|: next verse |END| (skips without ../shared)`, async (t) => {
  if (!fs.existsSync(PAIRS)) {
    t.pass('skipped: ../shared/corpora is absent');
    return;
  }
  const [rt] = listReadTasks([{ path: PAIRS, written: 'kjv.pairs.train.ndjson', format: 'ndjson', config: null }], 1, 200);
  // The first batch only: taking it stops the read.
  const [lines] = await runStage(take<LineBatch>(1), from([rt!]).pipe(read()));
  const [batch] = await runStage(split({ tokenizer: 'regex', strict: true }), [lines!]);
  t.is(batch!.sentences.length, 200);
  const records = fs.readFileSync(PAIRS, 'utf8').split('\n').slice(0, 200).map((l) => JSON.parse(l) as { prompt: string; response: string; book: string });
  t.deepEqual(
    batch!.sentences.map((s) => s.tokens),
    records.map((r) => tokenizeRegex(`|USER|: ${r.prompt} |CTX|:book:${r.book} |RESPONSE|: ${r.response} |END|`)),
  );
});
