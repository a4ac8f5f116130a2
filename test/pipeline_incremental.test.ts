// Acceptance: a model trained in steps. The first half of a corpus, then the same YAML with the
// second half added (the run counts only the new file, as generation 2), exports the lines of
// `dbslm build` on both files. Rerunning counts nothing and leaves the ARPA as it
// was; another order is refused while reset is false, and rebuilt from scratch with reset: true.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { assertSameLines, readArpaSections } from './helpers/arpa_compare.js';
import { BUNDLED_TRAIN } from './helpers/paths.js';
import { acceptDir, cliOk, dbslmAsync, runPipeline, writePipeline } from './helpers/pipeline_runs.js';

const dir = acceptDir();
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));

// Two halves of the bundled corpus, split at a line boundary.
const lines = fs.readFileSync(BUNDLED_TRAIN, 'utf8').split(/(?<=\n)/);
const half = Math.floor(lines.length / 2);
const first = path.join(dir, 'first.txt');
const second = path.join(dir, 'second.txt');
fs.writeFileSync(first, lines.slice(0, half).join(''));
fs.writeFileSync(second, lines.slice(half).join(''));
const lineCount = (file: string) => fs.readFileSync(file, 'utf8').split('\n').length - 1;

// Order 2, then 3 after the reset: what is under test is counting only what is new, not smoothing
// (the equality tests smooth order 3), and bigrams smooth in 40% of trigrams' time.
const STORE = ['order: 2', 'stages:', '  count: { workers: 2 }', 'store:', '  actors: 2', '  data: inc.store'];
const arpaOf = () => fs.readFileSync(path.join(dir, 'inc.arpa'));

test.serial('half, then both halves (only the new one counted, generation 2), equals the build of both; a rerun counts nothing; another order is refused; reset rebuilds', async (t) => {
  const started = performance.now();
  // The full build to compare with: dbslm build, which every pipeline shape equals line for line
  // (pipeline_equality.test.ts), not another pipeline run (20 s of CPU on a CPU-bound suite).
  const ref2 = path.join(dir, 'build2.arpa');
  await cliOk(['build', '--order', '2', '--arpa', ref2, '--quiet', first, second]);

  const yaml1 = writePipeline(dir, 'inc', [first], STORE);
  const one = await runPipeline(yaml1);
  t.is(one.summary.counting?.lines, lineCount(first));

  const yaml2 = writePipeline(dir, 'inc', [first, second], STORE);
  t.is(yaml2, yaml1, 'the same YAML file, one input added');
  const two = await runPipeline(yaml2);
  t.is(two.summary.counting?.lines, lineCount(second), 'only the new input was counted');
  t.regex(two.result.stderr, /generation 2/);
  const incremental = arpaOf();
  // build writes its trie's order, the store's export canonical order: the same lines, order aside.
  assertSameLines(t, readArpaSections(path.join(dir, 'inc.arpa')), readArpaSections(ref2));

  const again = await runPipeline(yaml2);
  t.is(again.summary.counting, null, 'nothing counted');
  t.regex(again.result.stderr, /every input was counted already/);
  t.true(arpaOf().equals(incremental), 'the ARPA is unchanged');

  const refused = await dbslmAsync(['pipeline', 'run', yaml2, '--set', 'order=3']);
  t.is(refused.code, 1);
  t.regex(refused.stderr, /the store holds model "inc" of order 2 with the whitespace tokenizer; this run is order 3 with whitespace\. Set reset: true \(or --set reset=true\) to clear it/);
  t.true(arpaOf().equals(incremental), 'a refused run leaves the ARPA alone');

  const reset = await runPipeline(yaml2, ['--set', 'order=3', '--set', 'reset=true']);
  t.is(reset.summary.counting?.lines, lineCount(first) + lineCount(second), 'reset counts every input again');
  t.is(reset.summary.smooth?.counts.length, 3);
  const ref3 = path.join(dir, 'build3.arpa');
  await cliOk(['build', '--order', '3', '--arpa', ref3, '--quiet', first, second]);
  // build writes its trie's order, the store's export canonical order: the same lines, order aside.
  assertSameLines(t, readArpaSections(path.join(dir, 'inc.arpa')), readArpaSections(ref3));
  t.log(`whole test: ${Math.round(performance.now() - started)} ms`);
});
