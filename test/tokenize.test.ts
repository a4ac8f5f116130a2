import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tokenizeRegex } from '../model/tokenize_regex.js';
import { detokenize } from '../model/detokenize.js';
import { InputError } from '../model/errors.js';
import {
  getTokenizer,
  isTokenizerName,
  parseTokenizerName,
  tokenizeWhitespace,
} from '../model/tokenizer.js';

// dist/test/tokenize.test.js -> repo root is two levels up; ../shared sits beside the repo.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const pairsFiles = ['train', 'test'].map((p) =>
  path.resolve(repoRoot, '..', 'shared', 'corpora', `kjv.pairs.${p}.ndjson`),
);

test('markers are single tokens', (t) => {
  t.deepEqual(tokenizeRegex('|USER|: Who are you? |RESPONSE|: A tokenizer. |END|'), [
    '|USER|:', 'Who', 'are', 'you', '?', '|RESPONSE|:', 'A', 'tokenizer', '.', '|END|',
  ]);
  t.deepEqual(tokenizeRegex('|INSTRUCTION|:Summarize|END|'), ['|INSTRUCTION|:', 'Summarize', '|END|']);
  t.deepEqual(tokenizeRegex('|CTX|:book:Ge |CTX|:lang:en-GB text'), ['|CTX|:book:Ge', '|CTX|:lang:en-GB', 'text']);
  // Only |UPPERCASE| is a marker; anything else is ordinary punctuation and words.
  t.deepEqual(tokenizeRegex('a |b| c'), ['a', '|', 'b', '|', 'c']);
  t.deepEqual(tokenizeRegex('||'), ['|', '|']);
});

test('numbers keep inner . and , but not trailing ones', (t) => {
  t.deepEqual(tokenizeRegex('pi is 3.14, about 1,000.5 of 2020.'), [
    'pi', 'is', '3.14', ',', 'about', '1,000.5', 'of', '2020', '.',
  ]);
  t.deepEqual(tokenizeRegex('1,2,3 and .5'), ['1,2,3', 'and', '.', '5']);
  // Ordinals and units stay one token; letters then digits are one word.
  t.deepEqual(tokenizeRegex('the 3rd of 10km H2O'), ['the', '3rd', 'of', '10km', 'H2O']);
});

test('punctuation and symbols are one token per character', (t) => {
  t.deepEqual(tokenizeRegex('Stop! (Now), [x]; {y}: 50% $5 a/b...'), [
    'Stop', '!', '(', 'Now', ')', ',', '[', 'x', ']', ';', '{', 'y', '}', ':',
    '50', '%', '$', '5', 'a', '/', 'b', '.', '.', '.',
  ]);
  t.deepEqual(tokenizeRegex('he said "no"'), ['he', 'said', '"', 'no', '"']);
  t.deepEqual(tokenizeRegex('sin--; x---y'), ['sin', '--', ';', 'x', '---', 'y']);
});

test('apostrophes and hyphens inside words stay in the word', (t) => {
  t.deepEqual(tokenizeRegex("don't LORD's rock'n'roll well-known don’t"), [
    "don't", "LORD's", "rock'n'roll", 'well-known', 'don’t',
  ]);
  // Plural possessives keep the trailing apostrophe; other lone apostrophes are tokens.
  t.deepEqual(tokenizeRegex("the sons' house, Jesus' words, Felix' room"), [
    'the', "sons'", 'house', ',', "Jesus'", 'words', ',', 'Felix', "'", 'room',
  ]);
  t.deepEqual(tokenizeRegex("'hi' -x y-"), ["'", 'hi', "'", '-', 'x', 'y', '-']);
});

test('unicode words: accents, ß, Greek, Cyrillic, combining marks', (t) => {
  t.deepEqual(tokenizeRegex('Café naïve Straße'), ['Café', 'naïve', 'Straße']);
  t.deepEqual(tokenizeRegex('Ἐν ἀρχῇ ἦν ὁ λόγος.'), ['Ἐν', 'ἀρχῇ', 'ἦν', 'ὁ', 'λόγος', '.']);
  t.deepEqual(tokenizeRegex('Привет, мир'), ['Привет', ',', 'мир']);
  // e + COMBINING ACUTE ACCENT is one word, not e and a stray accent.
  t.deepEqual(tokenizeRegex('cafe\u0301 ok'), ['cafe\u0301', 'ok']);
  // Emoji with skin tone or ZWJ sequences stay whole; ZWSP and controls separate tokens.
  t.deepEqual(tokenizeRegex('👍🏽 👨‍👩‍👧 a\u200bb\u0000c'), ['👍🏽', '👨‍👩‍👧', 'a', 'b', 'c']);
});

test('empty and whitespace-only lines give no tokens', (t) => {
  for (const s of ['', ' ', '   ', '\t\r\n', '\u00a0\u2003', '\ufeff']) {
    t.deepEqual(tokenizeRegex(s), [], JSON.stringify(s));
  }
  for (const s of ['', ' ', '\t \r', '\0\v\f']) {
    t.deepEqual(tokenizeWhitespace(s), [], JSON.stringify(s));
  }
  t.is(detokenize([]), '');
});

test('whitespace tokenizer splits on KenLM separators only', (t) => {
  t.deepEqual(tokenizeWhitespace('  a\tb\r\0c\vd\fe  f '), ['a', 'b', 'c', 'd', 'e', 'f']);
  // Punctuation and non-ASCII spaces are not separators for pre-tokenized text.
  t.deepEqual(tokenizeWhitespace('a,b c\u00a0d'), ['a,b', 'c\u00a0d']);
});

test('getTokenizer and name validation', (t) => {
  t.is(getTokenizer('regex'), tokenizeRegex);
  t.deepEqual(getTokenizer('whitespace')('x , y'), ['x', ',', 'y']);
  t.deepEqual(getTokenizer('regex')('x, y'), ['x', ',', 'y']);
  t.true(isTokenizerName('whitespace'));
  t.true(isTokenizerName('regex'));
  t.false(isTokenizerName('bpe'));
  t.is(parseTokenizerName('regex'), 'regex');
  const err = t.throws(() => parseTokenizerName('bpe'), { instanceOf: InputError });
  t.regex(err.message, /unknown tokenizer "bpe".*whitespace, regex/);
});

test('detokenize applies display spacing to tokens', (t) => {
  t.is(detokenize(['|USER|:', 'Hi', '!', '|END|']), '|USER|: Hi! |END|');
  t.is(detokenize(['(', 'a', ')', '[', 'b', ']', '{', 'c', '}', '50', '%']), '(a) [b] {c} 50%');
  t.is(detokenize(['“', 'x', '”', '‘', 'y', '’', '«', 'z', '»']), '“x” ‘y’ «z»');
  t.is(detokenize(['"', 'a', '"', 'b', '"', 'c', '"']), '"a" b "c"');
  t.is(detokenize(['3', ':', '16', 'and', '/', 'or', '1', '-', '3', 'x', '-', 'y']), '3:16 and/or 1-3 x - y');
  t.is(detokenize(['a', '|CTX|:k:v', '.']), 'a |CTX|:k:v .');
});

// Ordinary text with single spaces: sentences written the way the detokenizer spaces them.
const FIXTURES = [
  "|USER|: Hello, world! |RESPONSE|: I don't know. |END|",
  '|CTX|:book:Ge In the beginning (God) created 1,000.5 things; 3.14 is pi.',
  "The sons' house and Jesus' words, the LORD's house.",
  "They hatch cockatrice' eggs, and weave the spider's web.",
  "Festus came into Felix' room: and Felix trembled.",
  'Straße, café, naïve; Ἐν ἀρχῇ ἦν ὁ λόγος.',
  'He said "Hello," and \'hi\' to me; 50% of $5 is 2.5.',
  "It is the season: rock 'n' roll, and the boys' toys.",
  'A well-known 19-year-old read John 3:16 at 10:30, on the 3rd day...',
  'Wait... what?! [sic] {braces} “curly,” she said, ‘single’ too.',
  'Yet now, if thou wilt forgive their sin--; and if not, blot me.',
  '¿Qué tal? ¡Muy bien! Il a dit «bonjour».',
  '|INSTRUCTION|: Summarize the text. |RESPONSE|: It is short. |END|',
  'Price: £12.50 or €10, and/or 3-4 items.',
];

test('round trip: detokenize(tokenizeRegex(s)) === s on fixtures', (t) => {
  for (const s of FIXTURES) t.is(detokenize(tokenizeRegex(s)), s);
});

// Lines whose spacing is not ordinary prose (double spaces, space before punctuation, no space
// after a colon between words) cannot round-trip by design and are left out of the property.
const IRREGULAR_SPACING = /\s{2,}|^\s|\s$|\s[,.;:!?)\]}]|[,;!?][^\s\d"')\]}]|:[^\s\d"')\]}]/u;

const pairsPresent = pairsFiles.every((f) => fs.existsSync(f));
const kjvTitle = pairsPresent
  ? 'round trip on every KJV pairs prompt/response with ordinary spacing'
  : 'round trip on KJV pairs: skipped, ../shared/corpora absent';

(pairsPresent ? test : test.skip)(kjvTitle, (t) => {
  let checked = 0;
  let irregular = 0;
  const failures: string[] = [];
  for (const file of pairsFiles) {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      const rec = JSON.parse(line) as { prompt: string; response: string };
      for (const s of [rec.prompt, rec.response]) {
        if (IRREGULAR_SPACING.test(s)) {
          irregular++;
          continue;
        }
        checked++;
        const back = detokenize(tokenizeRegex(s));
        if (back !== s && failures.length < 10) {
          failures.push(`${path.basename(file)}:${i + 1}\n  in:  ${s}\n  out: ${back}`);
        }
      }
    });
  }
  t.log(`checked ${checked} texts, left out ${irregular} with irregular spacing`);
  t.deepEqual(failures, []);
  // The filter must not hide the corpus: irregular spacing is a rare source typo in the KJV.
  t.true(checked > 50_000, `only ${checked} texts checked`);
  t.true(irregular < checked / 1000, `${irregular} texts left out as irregular`);
});
