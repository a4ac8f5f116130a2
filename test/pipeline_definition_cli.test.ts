// `dbslm pipeline validate` and `dbslm pipeline graph` through the real CLI: exit codes, every
// problem printed at once (one per line), the shipped pipelines, text and DOT graphs.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { HAS_SHARED, ROOT } from './helpers/paths.js';
import { parseDot } from './helpers/dot.js';
import { dbslm, pipelineDir } from './helpers/pipeline_files.js';

const QUICKSTART = path.join(ROOT, 'config', 'pipelines', 'quickstart.yaml');
const KJV5 = path.join(ROOT, 'config', 'pipelines', 'kjv5.yaml');
const LOCATED = /^\S+:\d+:\d+ \S+: |^--set "[^"]*" \S+: /;

test('the quickstart validates fully: exit 0 and one OK line', (t) => {
  const r = dbslm(['pipeline', 'validate', QUICKSTART]);
  t.is(r.code, 0, r.stderr);
  t.is(r.stderr, '');
  t.regex(r.stdout, /^OK quickstart: 1 input, order 3, whitespace tokenizer; stages read, split, count, smooth, materialise, evaluate; 2 local store actors; ARPA to \S*quickstart\.3\.arpa\n$/);
});

test('the benchmark pipeline validates without the environment (and fully when ../shared is here)', (t) => {
  const r = dbslm(['pipeline', 'validate', KJV5, '--no-environment']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^OK kjv5: 1 input, order 5, .*count x2.*3 local store actors.*\(environment not checked\)\n$/);
  const full = dbslm(['pipeline', 'validate', KJV5]);
  if (HAS_SHARED) t.is(full.code, 0, full.stderr);
  else t.regex(full.stderr, /kjv5\.yaml:\d+:\d+ inputs\[0\]\.path: no such file/);
});

test('every problem is printed at once, one located line each, then exit 1', (t) => {
  const dir = pipelineDir({
    'bad.yaml': `name: bad
inputs:
  - path: missing.txt
order: eleven
stages:
  count: { workers: two }
  smooth: { input: materialise }
store: { actors: 2, replicas: 3 }
`,
  });
  const r = dbslm(['pipeline', 'validate', 'bad.yaml', '--set', 'tokenizer=bpe'], dir);
  t.is(r.code, 1);
  t.is(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  t.deepEqual(lines, [
    '--set "tokenizer=bpe" tokenizer: expected one of whitespace, regex, got "bpe"',
    'bad.yaml:3:11 inputs[0].path: no such file or directory: missing.txt',
    'bad.yaml:4:8 order: expected an integer from 1 to 10, got "eleven"',
    'bad.yaml:6:21 stages.count.workers: expected an integer >= 1, got "two"',
    'bad.yaml:7:20 stages.smooth.input: cycle smooth -> materialise -> smooth: only requeue may feed back into an earlier stage',
    'bad.yaml:8:31 store.replicas: expected at most store.actors (2) replicas, got 3',
    'dbslm pipeline validate: error: 6 problems in bad.yaml; nothing was started',
  ]);
  for (const line of lines.slice(0, -1)) t.regex(line, LOCATED);
});

test('--no-environment skips the environment; --set works before or after FILE', (t) => {
  const dir = pipelineDir({ 'p.yaml': 'inputs: [{ path: missing.txt }]\norder: 5\n' });
  t.is(dbslm(['pipeline', 'validate', 'p.yaml'], dir).code, 1);
  const skipped = dbslm(['pipeline', 'validate', '--set', 'order=4', 'p.yaml', '--no-environment', '--set', 'stages.count.workers=2'], dir);
  t.is(skipped.code, 0, skipped.stderr);
  t.regex(skipped.stdout, /^OK p: 1 input, order 4, .*count x2.*\(environment not checked\)$/m);
  const bad = dbslm(['pipeline', 'validate', 'p.yaml', '--no-environment', '--set', 'order=4x'], dir);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /^--set "order=4x" order: expected an integer from 1 to 10, got "4x"$/m);
});

test('an unreachable store.join endpoint fails validation quickly, naming it', (t) => {
  const dir = pipelineDir({ 'a.txt': 'a b\n', 'j.yaml': 'inputs: [{ path: a.txt }]\nstore: { join: ["tcp://127.0.0.1:9"] }\n' });
  const started = Date.now();
  const r = dbslm(['pipeline', 'validate', 'j.yaml', '--ping-timeout', '500'], dir);
  t.is(r.code, 1);
  t.regex(r.stderr, /^j\.yaml:2:17 store\.join\[0\]: no store actor answered a ping at tcp:\/\/127\.0\.0\.1:9 within 500 ms/m);
  t.true(Date.now() - started < 10000, `took ${Date.now() - started} ms`);
});

test('a missing pipeline file is one error, exit 1', (t) => {
  const r = dbslm(['pipeline', 'validate', path.join(pipelineDir(), 'nope.yaml')]);
  t.is(r.code, 1);
  t.regex(r.stderr, /nope\.yaml: no such file/);
});

test('graph prints one line per edge with workers and hosts', (t) => {
  const dir = pipelineDir({
    'g.yaml': `inputs: [{ path: a.txt }]
hosts: { gpu1: { address: 10.0.0.5 } }
stages:
  count: { workers: 2, host: gpu1 }
  evaluate: {}
  requeue: {}
  read: { input: requeue }
`,
  });
  const r = dbslm(['pipeline', 'graph', 'g.yaml'], dir);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(r.stdout.trimEnd().split('\n'), [
    'requeue (1 worker) -> read (1 worker) (feedback)',
    'read (1 worker) -> split (1 worker)',
    'split (1 worker) -> count (2 workers on gpu1)',
    'count (2 workers on gpu1) -> smooth (1 worker)',
    'smooth (1 worker) -> materialise (1 worker)',
    'materialise (1 worker) -> evaluate (1 worker)',
    'evaluate (1 worker) -> requeue (1 worker)',
  ]);
});

test('graph --dot is a digraph with one node per stage and the expected edges', (t) => {
  const r = dbslm(['pipeline', 'graph', KJV5, '--dot', '--set', 'stages.evaluate.samples=1', '--set', 'stages.requeue.workers=1', '--set', 'stages.count.input=requeue']);
  t.is(r.code, 0, r.stderr);
  const g = parseDot(r.stdout);
  t.true(g.directed);
  t.is(g.name, 'kjv5');
  t.deepEqual([...g.nodes.keys()], ['read', 'split', 'count', 'smooth', 'materialise', 'evaluate', 'requeue']);
  t.is(g.nodes.get('count')!.label, 'count\\n2 workers');
  t.deepEqual(
    g.edges.map((e) => `${e.from}->${e.to}${e.attrs.style === 'dashed' ? ' (feedback)' : ''}`),
    ['read->split', 'split->count', 'requeue->count (feedback)', 'count->smooth', 'smooth->materialise', 'materialise->evaluate', 'evaluate->requeue'],
  );
  t.throws(() => parseDot(r.stdout.replace('->', '-')), undefined, 'the parser does refuse broken DOT');
});

test('graph of an invalid definition prints its problems and exits 1', (t) => {
  const dir = pipelineDir({ 'g.yaml': 'inputs: [{ path: a.txt }]\nstages:\n  split: { input: count }\n' });
  const r = dbslm(['pipeline', 'graph', 'g.yaml', '--dot'], dir);
  t.is(r.code, 1);
  t.is(r.stdout, '');
  t.regex(r.stderr, /^g\.yaml:3:19 stages\.split\.input: cycle split -> count -> split/m);
  t.false(fs.existsSync(path.join(dir, 'out')), 'nothing was created');
});
