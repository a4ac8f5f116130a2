// `dbslm generate` through the real CLI on a model of the bundled corpus: the same seed gives
// the same text from the ARPA file and from the model imported into a store (one actor, and three
// actors holding its forks), each context's followers and backoff read from the store equal the
// file's, a re-imported model is not served from a stale cache, and bad input gets clear errors.
import test from 'ava';
import path from 'node:path';
import type { ContextFollowers } from '../generate/context_source.js';
import { Engine } from '../generate/engine.js';
import { BOS } from '../model/vocab.js';
import { StoreContextSource } from '../generate/store_source.js';
import { balancedTrio } from './helpers/cluster_procs.js';
import { BUNDLED_TRAIN } from './helpers/paths.js';
import { cliOk, dbslmAsync } from './helpers/pipeline_runs.js';
import { spawnActor, tmpDir } from './helpers/store_procs.js';

const dbslm = (...args: string[]) => dbslmAsync(args);
const ok = (...args: string[]) => cliOk(args);

const dir = tmpDir();
const m3 = path.join(dir, 'sample3.arpa');
const m2 = path.join(dir, 'sample2.arpa');
const built = Promise.all([ok('build', '--order', '3', '--tokenizer', 'regex', '--arpa', m3, BUNDLED_TRAIN), ok('build', '--order', '2', '--tokenizer', 'regex', '--arpa', m2, BUNDLED_TRAIN)]);
const SAMPLE = ['--n', '5', '--seed', '11', '--max-tokens', '25', '--tokenizer', 'regex'];

test('the same seed gives the same text from the file and from the store (one actor and three)', async (t) => {
  await built;
  const fromFile = await ok('generate', '--model', m3, ...SAMPLE);
  t.is(fromFile.trimEnd().split('\n').length, 5);
  t.is(await ok('generate', '--model', m3, ...SAMPLE), fromFile, 'repeatable');
  t.not(await ok('generate', '--model', m3, ...SAMPLE.slice(0, 2), '--seed', '12', ...SAMPLE.slice(4)), fromFile, 'another seed, other text');
  const one = await spawnActor(t, 'gen-one');
  await ok('store', 'import', '--no-topk', '--arpa', m3, '--model', 'sample', '--tokenizer', 'regex', '--connect', one.ep, '--quiet');
  t.is(await ok('generate', '--connect', one.ep, '--model', 'sample', ...SAMPLE), fromFile);
  const { a } = await balancedTrio(t);
  await ok('store', 'import', '--no-topk', '--arpa', m3, '--model', 'sample', '--tokenizer', 'regex', '--connect', a.ep, '--quiet');
  t.is(await ok('generate', '--connect', a.ep, '--model', 'sample', ...SAMPLE), fromFile);
  // Controls go through the same decoder either way.
  const controlled = ['--top-p', '0.8', '--temperature', '0.7', '--prompt', 'And God said', '--json'];
  t.is(await ok('generate', '--connect', a.ep, '--model', 'sample', ...SAMPLE, ...controlled), await ok('generate', '--model', m3, ...SAMPLE, ...controlled));
});

test('a model imported again is never served from the cache of the old one', async (t) => {
  await built;
  const actor = await spawnActor(t, 'gen-stale');
  await ok('store', 'import', '--no-topk', '--arpa', m3, '--model', 'm', '--tokenizer', 'regex', '--connect', actor.ep, '--quiet');
  const engine = await Engine.open({ connect: actor.ep, model: 'm' });
  t.teardown(() => engine.close());
  // The unigrams (model-wide) are read at open, with the vocabulary, not by the first token.
  const source = engine.source as StoreContextSource;
  t.true(source.isCached([]) && source.stats.storeReads === 1, `${source.stats.storeReads} ranges read at open`);
  const request = { seed: 3, maxTokens: 30 };
  const fromFile = async (file: string) => (await (await Engine.open({ file, tokenizer: 'regex' })).generate(request)).text;
  t.is((await engine.generate(request)).text, await fromFile(m3));

  // Each context's followers and backoff (a row of its prefix's range) from the store equal the
  // file's, the prefix's range read in the same round or earlier, and an absent context is null.
  const file = await Engine.open({ file: m3, tokenizer: 'regex' });
  const fileIds = (await file.generate({ seed: 5, maxTokens: 30 })).words.map((w) => w.id);
  const history = [BOS, ...fileIds, fileIds[0]!, fileIds[0]!];
  const contexts = [[], ...history.flatMap((_, i) => [history.slice(i, i + 1), history.slice(i, i + 2)])];
  const toStore = (ids: number[]) => ids.map((id) => engine.vocab().lookup(file.vocab().word(id)));
  const fromStore = (f: ContextFollowers | null) => f && { words: Array.from(f.words, (id) => file.vocab().lookup(engine.vocab().word(id))), logProbs: Array.from(f.logProbs), backoff: f.backoff };
  const plain = (f: ContextFollowers | null) => f && { words: Array.from(f.words), logProbs: Array.from(f.logProbs), backoff: f.backoff };
  const want = await Promise.all(contexts.map(async (c) => plain(await file.source!.followers(c))));
  t.true(want.some((f) => f === null) && want.some((f) => f !== null && f.backoff !== 0), 'absent contexts and backoffs both checked');
  for (const together of [true, false]) {
    const fresh = await Engine.open({ connect: actor.ep, model: 'm' });
    t.teardown(() => fresh.close());
    const got = together ? await Promise.all(contexts.map((c) => fresh.source!.followers(toStore(c)))) : [];
    if (!together) for (const c of contexts) got.push(await fresh.source!.followers(toStore(c)));
    t.deepEqual(got.map(fromStore), want, together ? 'asked in one round' : 'asked one after another');
    // One answer object per cached context: the controlled draw caches its explicit words by it.
    const first = await fresh.source!.followers([BOS]);
    t.true(first !== null && first === (await fresh.source!.followers([BOS])));
  }
  await ok('store', 'import', '--no-topk', '--arpa', m2, '--model', 'm', '--tokenizer', 'regex', '--connect', actor.ep, '--quiet', '--replace');
  // A refresh that finds the model written again reads the new model's unigrams with its vocabulary.
  const readsBefore = source.stats.storeReads;
  t.true(await source.refresh());
  t.true(source.isCached([]) && source.stats.storeReads === readsBefore + 1, `${source.stats.storeReads - readsBefore} ranges read by the refresh`);
  t.is((await engine.generate(request)).text, await fromFile(m2));
  t.is(source.order, 2);
});

test('bad input: no model named, an unknown model, an unreachable store, bad controls', async (t) => {
  await built;
  const none = await dbslm('generate');
  t.is(none.code, 1);
  t.regex(none.stderr, /Name the model: --model FILE, or --connect ENDPOINT/);
  const actor = await spawnActor(t, 'gen-bad');
  const unknown = await dbslm('generate', '--connect', actor.ep, '--model', 'absent');
  t.is(unknown.code, 1);
  t.regex(unknown.stderr, /no model "absent" in the store .* import one with `dbslm store import/);
  const started = Date.now();
  const down = await dbslm('generate', '--connect', 'tcp://127.0.0.1:9', '--timeout', '1000');
  t.is(down.code, 1);
  t.regex(down.stderr, /no store answers at tcp:\/\/127\.0\.0\.1:9/);
  t.true(Date.now() - started < 30000, 'fails within its timeout, never hangs');
  for (const [flags, message] of [
    [['--top-p', '0'], /top-p must be in \(0, 1\]/],
    [['--bias', 'LORD'], /--bias "LORD": expected WORD=NUMBER/],
    [['--ban', 'zzzunknown'], /banned word "zzzunknown" is not in the model's vocabulary/],
    [['--context-dimensions', '1-2,x'], /--context-dimensions "1-2,x"/],
  ] as const) {
    const r = await dbslm('generate', '--model', m3, ...flags);
    t.is(r.code, 1, flags.join(' '));
    t.regex(r.stderr, message);
  }
  // An empty prompt, or one of unknown words only, still generates (from backoff).
  t.true((await ok('generate', '--model', m3, '--prompt', 'qqq zzz', '--seed', '1', '--min-tokens', '3')).trim().length > 0);
  t.true((await ok('generate', '--model', m3, '--prompt', '', '--seed', '1', '--min-tokens', '3')).trim().length > 0);
});
