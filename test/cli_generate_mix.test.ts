// `generate` and `chat` with several --model and --weights (issue 9) through the real CLI: the
// same seed gives the same text, words come from both models, controls apply, bad weights get
// exactly ppl's errors, and a store mixed with files or --concepts with a mixture are refused.
// Two small models of the two halves of the bundled corpus (order 3 and order 2).
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { BUNDLED_TEST, BUNDLED_TRAIN } from './helpers/paths.js';
import { cliOk, dbslmAsync } from './helpers/pipeline_runs.js';
import { tempDir } from './helpers/temp_dir.js';

const dir = tempDir('dbslm-cli-genmix-');
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = (name: string) => path.join(dir, name);

const train = fs.readFileSync(BUNDLED_TRAIN, 'utf8').split('\n');
// Small models load fast: each CLI run below reads both.
fs.writeFileSync(file('a.txt'), train.slice(0, 600).join('\n') + '\n');
fs.writeFileSync(file('b.txt'), train.slice(1500, 2100).join('\n') + '\n');
fs.writeFileSync(file('test.txt'), fs.readFileSync(BUNDLED_TEST, 'utf8').split('\n').slice(0, 50).join('\n') + '\n');
const built = Promise.all([
  cliOk(['build', '--order', '3', '--arpa', file('a.arpa'), '-q', file('a.txt')]),
  cliOk(['build', '--order', '2', '--arpa', file('b.arpa'), '-q', file('b.txt')]),
]);
const MIX = ['--model', file('a.arpa'), '--model', file('b.arpa')];
const wordsOf = (name: string) => new Set(fs.readFileSync(file(name), 'utf8').split(/\s+/));

/** The error lines of a failed command, without the command's name. */
const errorOf = (stderr: string, command: string) =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith(`dbslm ${command}: error: `) || l.startsWith('  hint: '))
    .map((l) => l.replace(`dbslm ${command}: `, ''))
    .join('\n');

test('generate --model A --model B --weights 0.3,0.7 --seed 1 is repeatable and draws words of both models', async (t) => {
  await built;
  const run = (...extra: string[]) => cliOk(['generate', ...MIX, '--weights', '0.3,0.7', '--n', '20', '--json', ...extra]);
  const [once, again, other] = await Promise.all([run('--seed', '1'), run('--seed', '1'), run('--seed', '2')]);
  t.is(again, once);
  t.not(other, once);
  const words = once.trim().split('\n').flatMap((line) => (JSON.parse(line) as { words: string[] }).words);
  const [a, b] = [wordsOf('a.txt'), wordsOf('b.txt')];
  t.true(words.some((w) => !a.has(w)), 'a word only the second model knows');
  t.true(words.some((w) => !b.has(w)), 'a word only the first model knows');
  // Controls on the mixture (their repeatability: generate_mixture.test.ts): a banned word never comes.
  const controlled = await run('--seed', '1', '--temperature', '0.8', '--top-k', '20', '--ban', 'the', '--bias', 'LORD=1', '--presence-penalty', '0.3');
  t.false(controlled.trim().split('\n').some((line) => (JSON.parse(line) as { words: string[] }).words.includes('the')));
  t.true(words.includes('the'));
});

test("bad weights: generate and chat give exactly ppl's errors", async (t) => {
  await built;
  for (const weights of ['0.3,0.8', '0.2,0.3,0.5']) {
    // chat reads --weights through the same code as generate: once is enough.
    const [ppl, generate, chat] = await Promise.all([
      dbslmAsync(['ppl', ...MIX, '--weights', weights, file('test.txt')]),
      dbslmAsync(['generate', ...MIX, '--weights', weights, '--seed', '1']),
      weights === '0.3,0.8' ? dbslmAsync(['chat', ...MIX, '--weights', weights, '--seed', '1'], { input: 'In the beginning\n' }) : undefined,
    ]);
    const expected = errorOf(ppl.stderr, 'ppl');
    t.regex(expected, /^error: --weights /, ppl.stderr);
    for (const [name, r] of [['generate', generate], ['chat', chat]] as const) {
      if (r === undefined) continue;
      t.is(r.code, 1, `${name} --weights ${weights}`);
      t.is(errorOf(r.stderr, name), expected, `${name} --weights ${weights}`);
      t.is(r.stdout, '');
    }
  }
  // One model with --weights, a store with files, and --concepts with a mixture: refused before anything loads.
  const [oneGenerate, oneChat, store, concepts] = await Promise.all([
    dbslmAsync(['generate', '--model', file('a.arpa'), '--weights', '1']),
    dbslmAsync(['chat', '--model', file('a.arpa'), '--weights', '1'], { input: '' }),
    dbslmAsync(['generate', ...MIX, '--connect', 'tcp://127.0.0.1:9']),
    dbslmAsync(['generate', ...MIX, '--concepts']),
  ]);
  for (const r of [oneGenerate, oneChat]) t.regex(r.stderr, /--weights mixes models: give --model FILE once per model, two or more/);
  t.regex(store.stderr, /Mix model files, not a store/);
  t.regex(concepts.stderr, /--concepts .* a mixture of models has none/);
  for (const r of [oneGenerate, oneChat, store, concepts]) t.is(r.code, 1);
});

test('chat with a mixture: a scripted conversation is repeatable and is recorded as the mixture', async (t) => {
  await built;
  const script = 'In the beginning\n:correct God => LORD\nAnd Moses said\n:history\n:exit\n';
  const chat = (seed: string) => dbslmAsync(['chat', ...MIX, '--weights', '0.3,0.7', '--seed', seed, '--top-p', '0.95'], { input: script });
  const [once, again] = await Promise.all([chat('3'), chat('3')]);
  t.is(once.code, 0, once.stderr);
  // Conversation ids are new each run.
  const id = /c-[a-z0-9]+-[a-f0-9]+/g;
  t.is(again.stdout.replace(id, 'ID'), once.stdout.replace(id, 'ID'));
  const lines = once.stdout.trim().split('\n');
  t.is(lines[1], 'noted: "LORD", not "God", for the next 5 answers');
  t.true(lines.some((l) => l.includes(`on ${file('a.arpa')} + ${file('b.arpa')} (weights 0.3,0.7)`)), once.stdout);
  t.true(lines.some((l) => l.startsWith('dbslm: ') && l.length > 'dbslm: '.length), once.stdout);
});
