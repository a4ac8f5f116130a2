// Chat end to end on a model trained on prompt/response pairs through the pipeline: a slice of
// ../shared's kjv.pairs (with its dataset config) built into a running store actor, then `dbslm chat
// --connect` answers a verse in the response slot (the prompt framed as |USER|: ... |RESPONSE|:, as
// the split stage framed the training pairs), ends its answer at |END|, shows no marker, and a
// second message resumes the conversation by its id. Skips, saying so, without ../shared.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { Engine } from '../generate/engine.js';
import { startActor } from './helpers/cluster_procs.js';
import { HAS_SHARED, SHARED, SHARED_SKIP_NOTE } from './helpers/paths.js';
import { acceptDir, dbslmAsync, runPipeline, writePipeline, type CliResult } from './helpers/pipeline_runs.js';

const MARKERS = /\|USER\||\|RESPONSE\||\|END\||\|CTX\||\|INSTRUCTION\||<\/?s>/;
const PROMPT = 'In the beginning God created the heaven and the earth.';

if (!HAS_SHARED) {
  test.skip(`chat on a pipeline model of kjv.pairs: ${SHARED_SKIP_NOTE}`, () => {});
} else {
  test.serial('chat answers in the response slot of a pipeline model trained on kjv.pairs, without markers, and resumes by id', async (t) => {
    const dir = acceptDir();
    const corpora = path.join(SHARED, 'corpora');
    const lines = fs.readFileSync(path.join(corpora, 'kjv.pairs.train.ndjson'), 'utf8').split('\n').slice(0, 3000);
    fs.writeFileSync(path.join(dir, 'pairs.ndjson'), lines.join('\n') + '\n');
    fs.copyFileSync(path.join(corpora, 'kjv.pairs.config.json'), path.join(dir, 'pairs.config.json'));
    const actor = await startActor(t, 'pairs-1', { dir: path.join(dir, 'actor') });
    const yaml = writePipeline(dir, 'pairs', [path.join(dir, 'pairs.ndjson')], ['store:', `  join: [${JSON.stringify(actor.ep)}]`]);
    await runPipeline(yaml);

    const chat = async (...args: string[]): Promise<CliResult> => {
      const r = await dbslmAsync(['chat', '--connect', actor.ep, '--model', 'pairs', ...args]);
      t.is(r.code, 0, r.stderr);
      return r;
    };
    const first = await chat('--prompt', PROMPT, '--seed', '1');
    t.log(`answer: ${first.stdout.trim()}`);
    const id = /resume it with --conversation (\S+)\)/.exec(first.stderr)?.[1];
    t.truthy(id, `the conversation id is printed: ${first.stderr}`);
    t.regex(first.stdout, /\w/, 'the answer has words');
    t.notRegex(first.stdout, MARKERS);
    const second = await chat('--conversation', id!, '--prompt', 'And then?', '--seed', '2');
    t.regex(second.stderr, new RegExp(`conversation ${id}`));
    t.notRegex(second.stdout, MARKERS);
    t.regex(second.stdout, /\w/);

    // The response slot: answers end at |END| (or </s>), as the training responses did, well before the limit.
    const engine = await Engine.open({ connect: actor.ep, model: 'pairs' });
    t.teardown(() => engine.close());
    let ended = 0;
    for (let seed = 0; seed < 20; seed++) {
      const { words, text } = await engine.generate({ prompt: PROMPT, seed, maxTokens: 120 });
      t.notRegex(text, MARKERS);
      if (seed < 3) t.log(`seed ${seed}: ${text}`);
      if (words.length < 120) ended++;
    }
    t.true(ended >= 18, `${ended} of 20 answers ended by themselves`);
  });
}
