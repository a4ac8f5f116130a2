// Level 2 (generate/conversation.ts): corrections change the answers as intended and stop after
// their number of turns; conversations persist in the store and resume from another process
// (`dbslm chat --connect`), with :history showing messages and corrections; bad ids get clear
// errors.
import test from 'ava';
import path from 'node:path';
import { Conversation, DEFAULT_MEMORY_OPTIONS } from '../generate/conversation.js';
import { Engine } from '../generate/engine.js';
import { buildFromFile } from './helpers/corpus.js';
import { BUNDLED_TRAIN } from './helpers/paths.js';
import { dbslmAsync } from './helpers/pipeline_runs.js';
import { spawnActor, tmpDir } from './helpers/store_procs.js';

const dbslm = (args: string[], input?: string) => dbslmAsync(args, { input: input ?? '' });

test('a correction biases the answers away from the wrong word and towards the right one, then expires', async (t) => {
  const engine = await Engine.open({ lm: buildFromFile(BUNDLED_TRAIN, 3).lm });
  const log = await engine.conversationLog();
  const turns = 15;
  const conversation = await Conversation.start(engine, log, { user: 'u', agent: 'a', model: 'bundled' }, { ...DEFAULT_MEMORY_OPTIONS, correctionTurns: turns });
  const request = (i: number) => ({ seed: 100 + i, minTokens: 30, maxTokens: 30 });
  const count = (texts: string[], word: string) => texts.reduce((n, text) => n + text.split(' ').filter((w) => w === word).length, 0);
  const answers = async (from: number) => {
    const out: string[] = [];
    for (let i = from; i < from + turns; i++) out.push((await conversation.respond('And he said', request(i))).words.map((w) => w.token).join(' '));
    return out;
  };
  const before = await answers(0);
  await conversation.correct('the', 'a');
  t.is(conversation.activeCorrections().length, 1);
  const during = await answers(0);
  t.is(conversation.activeCorrections().length, 0, 'expired after its turns');
  const after = await answers(0);
  t.log(`"the" before ${count(before, 'the')}, during ${count(during, 'the')}, after ${count(after, 'the')}; "a" before ${count(before, 'a')}, during ${count(during, 'a')}`);
  t.true(count(before, 'the') >= 10, 'the word is common without the correction');
  t.is(count(during, 'the'), 0, 'corrected away for its turns');
  t.true(count(during, 'a') > count(before, 'a'), 'the right word is favoured');
  t.true(count(after, 'the') >= 10, 'back once the correction expired');
});

test('chat --connect: a conversation persists, resumes from another process, and :history shows it', async (t) => {
  const dir = tmpDir();
  const arpa = path.join(dir, 'm.arpa');
  t.is((await dbslm(['build', '--order', '3', '--arpa', arpa, BUNDLED_TRAIN])).code, 0);
  const actor = await spawnActor(t, 'chat-mem');
  t.is((await dbslm(['store', 'import', '--no-topk', '--arpa', arpa, '--model', 'm', '--connect', actor.ep, '--quiet'])).code, 0);
  const store = ['--connect', actor.ep, '--model', 'm', '--seed', '5'];
  const first = await dbslm(['chat', ...store, '--user', 'ann', '--prompt', 'Who made the heaven ?']);
  t.is(first.code, 0, first.stderr);
  const id = /conversation (\S+) \(resume it with --conversation \1\)/.exec(first.stderr)?.[1];
  t.truthy(id, first.stderr);
  t.true(first.stdout.trim().length > 0);
  const second = await dbslm(['chat', ...store, '--conversation', id!], ':correct LORD => God\nAnd then ?\n:history\n:exit\n');
  t.is(second.code, 0, second.stderr);
  const history = second.stdout.slice(second.stdout.indexOf(`conversation ${id}:`));
  t.regex(history, /^conversation \S+: ann with dbslm on m at tcp/);
  t.regex(history, /\nann: Who made the heaven \?\ndbslm: .+\n  correction: say "God", not "LORD" \(answers 2-6\)\nann: And then \?\ndbslm: /);
  const unknown = await dbslm(['chat', ...store, '--conversation', 'c-nope', '--prompt', 'hi']);
  t.is(unknown.code, 1);
  t.regex(unknown.stderr, /no conversation c-nope in the store at tcp:.*start a new one by leaving out --conversation/s);
  const noStore = await dbslm(['chat', '--model', arpa, '--conversation', id!]);
  t.is(noStore.code, 1);
  t.regex(noStore.stderr, /--conversation resumes a conversation kept in a store: add --connect/);
});

test('templates: the summary names the user\'s informative words and the corrections replay with their turns', async (t) => {
  const engine = await Engine.open({ lm: buildFromFile(BUNDLED_TRAIN, 3).lm });
  await engine.loadUnigrams();
  const conversation = await Conversation.start(engine, await engine.conversationLog(), { user: 'ann', agent: 'bot', model: 'bundled' });
  await conversation.respond('the firmament and the heaven', { seed: 1 });
  await conversation.correct('LORD', 'God');
  await conversation.respond('the heaven and the waters', { seed: 2 });
  const summary = conversation.template('summary');
  t.regex(summary, /^ann and bot exchanged 2 messages and 2 answers on bundled\.\nann spoke of: heaven, [^\n]*firmament[^\n]*waters/);
  t.regex(summary, /1 correction, 1 still applying\.$/);
  t.is(conversation.template('corrections'), '1. say "God", not "LORD": applies to answers 2-6 (4 left)');
});
