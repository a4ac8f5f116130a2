// The stage graph: default inputs follow the canonical order, an input must name a present stage,
// requeue may feed back into an earlier stage, and any other cycle is refused by name.
import test from 'ava';
import { checkTopology, stageEdges, stageInputs } from '../pipeline/definition/topology.js';
import type { StageName } from '../pipeline/definition/schema.js';
import { loadYaml, problemLines } from './helpers/pipeline_files.js';

const edges = (stages: Parameters<typeof stageEdges>[0]) => stageEdges(stages).map((e) => `${e.from}->${e.to}${e.feedback ? ' (feedback)' : ''}`);
const inputOf = (...names: StageName[]) => ({ input: names });

test('default inputs: each present stage reads the previous one in canonical order', (t) => {
  t.deepEqual(edges({}), ['read->split', 'split->count', 'count->smooth', 'smooth->materialise']);
  t.deepEqual(edges({ parse: {}, embed: {}, evaluate: {}, requeue: {} }), [
    'read->split',
    'split->parse',
    'parse->embed',
    'embed->count',
    'count->smooth',
    'smooth->materialise',
    'materialise->evaluate',
    'evaluate->requeue',
  ]);
  t.deepEqual(checkTopology({ parse: {}, embed: {}, evaluate: {}, requeue: {} }), [], 'a requeue nobody reads from is no cycle');
});

test('an explicit input replaces the default; skipping a stage is allowed', (t) => {
  t.deepEqual(edges({ count: inputOf('read') }), ['read->split', 'read->count', 'count->smooth', 'smooth->materialise']);
  t.deepEqual(checkTopology({ count: inputOf('read') }), []);
  t.deepEqual(edges({ parse: {}, count: inputOf('split', 'parse') }), ['read->split', 'split->parse', 'split->count', 'parse->count', 'count->smooth', 'smooth->materialise']);
});

test('requeue may feed back into read or count: its input adds to the default one', (t) => {
  const intoRead = { evaluate: {}, requeue: {}, read: inputOf('requeue') };
  t.deepEqual(checkTopology(intoRead), []);
  t.deepEqual(stageInputs(intoRead).get('read'), ['requeue']);
  t.true(edges(intoRead).includes('requeue->read (feedback)'));

  const intoCount = { evaluate: {}, requeue: {}, count: inputOf('requeue') };
  t.deepEqual(checkTopology(intoCount), []);
  t.deepEqual(stageInputs(intoCount).get('count'), ['split', 'requeue'], 'count still reads split');
  t.deepEqual(checkTopology({ requeue: inputOf('materialise'), smooth: inputOf('count', 'requeue') }), []);
});

test('a cycle without requeue is refused, naming the cycle at the input that closes it', (t) => {
  t.deepEqual(checkTopology({ smooth: inputOf('materialise') }), [
    { path: ['stages', 'smooth', 'input'], message: 'cycle smooth -> materialise -> smooth: only requeue may feed back into an earlier stage' },
  ]);
  t.deepEqual(checkTopology({ split: inputOf('read', 'smooth') }), [
    { path: ['stages', 'split', 'input'], message: 'cycle split -> count -> smooth -> split: only requeue may feed back into an earlier stage' },
  ]);
  t.deepEqual(checkTopology({ count: inputOf('count') }), [{ path: ['stages', 'count', 'input'], message: 'cycle count -> count: only requeue may feed back into an earlier stage' }]);
  // A cycle through requeue next to one that avoids it: only the second is an error.
  const mixed = checkTopology({ evaluate: {}, requeue: {}, read: inputOf('requeue'), smooth: inputOf('count', 'materialise') });
  t.deepEqual(mixed.map((f) => f.message), ['cycle smooth -> materialise -> smooth: only requeue may feed back into an earlier stage']);
});

test('an input must name a stage of this pipeline', (t) => {
  t.deepEqual(checkTopology({ count: inputOf('parse') }), [
    { path: ['stages', 'count', 'input'], message: 'stage parse is not in this pipeline: list it under stages, or read from one of read, split, smooth, materialise' },
  ]);
  t.deepEqual(checkTopology({ count: inputOf('requeue') }).map((f) => f.message), ['stage requeue is not in this pipeline: list it under stages, or read from one of read, split, smooth, materialise']);
});

test('a stage fed by requeue alone still reads its default input; a forward input is a cycle', (t) => {
  t.deepEqual(checkTopology({ evaluate: {}, requeue: {}, count: inputOf('requeue', 'requeue'), smooth: inputOf('requeue') }), []);
  t.deepEqual(stageInputs({ evaluate: {}, requeue: {}, smooth: inputOf('requeue') }).get('smooth'), ['count', 'requeue']);
  t.deepEqual(checkTopology({ evaluate: {}, requeue: {}, count: inputOf('evaluate') }), [
    { path: ['stages', 'count', 'input'], message: 'cycle count -> smooth -> materialise -> evaluate -> count: only requeue may feed back into an earlier stage' },
  ]);
});

test('topology problems in a file are placed at the input that is wrong', (t) => {
  const loaded = loadYaml(`inputs: [{ path: a.txt }]
stages:
  evaluate: {}
  requeue: {}
  read: { input: requeue }
  split:
    input: [read, smooth]
  materialise: { input: embed }
`);
  t.deepEqual(problemLines(loaded), [
    'kjv.yaml:7:12 stages.split.input: cycle split -> count -> smooth -> split: only requeue may feed back into an earlier stage',
    'kjv.yaml:8:25 stages.materialise.input: stage embed is not in this pipeline: list it under stages, or read from one of read, split, count, smooth, evaluate, requeue',
  ]);
});

test('an allowed requeue cycle makes a valid definition with a feedback edge', (t) => {
  const loaded = loadYaml('inputs: [{ path: a.txt }]\nstages:\n  evaluate: {}\n  requeue: {}\n  count: { input: requeue }\n');
  t.deepEqual(problemLines(loaded), []);
  t.deepEqual(
    loaded.definition!.edges.filter((e) => e.feedback),
    [{ from: 'requeue', to: 'count', feedback: true }],
  );
});
