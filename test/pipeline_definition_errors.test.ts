// Every kind of problem in a definition, with where it is: `FILE:LINE:COL PATH: MESSAGE` is the
// contract (editors and people jump to FILE:LINE:COL), so each case asserts that prefix exactly.
import test from 'ava';
import { loadYaml, problemLines } from './helpers/pipeline_files.js';

/** The problems of a YAML text, split into the located prefix and the message. */
function problemsOf(yaml: string, overrides: string[] = []): { at: string; message: string }[] {
  const loaded = loadYaml(yaml, overrides);
  const lines = problemLines(loaded);
  if (lines.length > 0) {
    // No problem may leave a definition behind: nothing would start.
    if (loaded.definition !== null) throw new Error('a definition with problems was resolved');
  }
  return lines.map((l) => {
    const cut = l.indexOf(': ');
    return { at: l.slice(0, cut + 1), message: l.slice(cut + 2) };
  });
}

const BASE = 'inputs:\n  - path: a.txt\n';

test('a wrong type names the field, what was expected and what was got, at the value', (t) => {
  const yaml = `${BASE}order: 5
stages:
  count:
    workers: two
`;
  t.deepEqual(problemsOf(yaml), [{ at: 'kjv.yaml:6:14 stages.count.workers:', message: 'expected an integer >= 1, got "two"' }]);
});

const valueCases: [string, string, string, RegExp][] = [
  ['order: 0', 'kjv.yaml:3:8 order:', 'order 0', /^expected an integer from 1 to 10, got 0$/],
  ['order: 11', 'kjv.yaml:3:8 order:', 'order 11', /^expected an integer from 1 to 10, got 11$/],
  ['order: 2.5', 'kjv.yaml:3:8 order:', 'order 2.5', /^expected an integer from 1 to 10, got 2\.5$/],
  ['tokenizer: bpe', 'kjv.yaml:3:12 tokenizer:', 'unknown tokenizer', /^expected one of whitespace, regex, got "bpe"$/],
  ['strict: yes', 'kjv.yaml:3:9 strict:', 'yes is not a boolean in YAML 1.2', /^expected true or false, got "yes"$/],
  ['name: my pipeline', 'kjv.yaml:3:7 name:', 'a name with a space', /^expected a name of letters, digits.*got "my pipeline"$/],
  ['stages: { count: { batch: 0 } }', 'kjv.yaml:3:27 stages.count.batch:', 'batch 0', /^expected an integer >= 1, got 0$/],
  ['stages: { materialise: { bits: 17 } }', 'kjv.yaml:3:32 stages.materialise.bits:', 'bits 17', /^expected an integer from 1 to 16, got 17$/],
  ['stages: { count: { input: counting } }', 'kjv.yaml:3:27 stages.count.input:', 'unknown stage name', /^expected a stage name \(read, split, parse, embed, count, smooth, materialise, evaluate, requeue\), got "counting"$/],
  ['stages: { count: { input: [split, cnt] } }', 'kjv.yaml:3:35 stages.count.input[1]:', 'unknown stage in a list', /^expected a stage name .*got "cnt"$/],
  ['stages: { count: { endpoint: "http://x:1" } }', 'kjv.yaml:3:30 stages.count.endpoint:', 'not a ZeroMQ endpoint', /^expected an endpoint ipc:\/\/PATH or tcp:\/\/HOST:PORT.*got "http:\/\/x:1"$/],
  ['stages: { count: { endpoint: "tcp://127.0.0.1:70000" } }', 'kjv.yaml:3:30 stages.count.endpoint:', 'port out of range', /PORT from 0 to 65535.*got "tcp:\/\/127\.0\.0\.1:70000"$/],
  ['metrics: { port: -1 }', 'kjv.yaml:3:18 metrics.port:', 'port -1', /^expected an integer from 0 to 65535, got -1$/],
  ['store: { actors: 0 }', 'kjv.yaml:3:18 store.actors:', 'no actors', /^expected an integer >= 1, got 0$/],
  ['store: { join: [] }', 'kjv.yaml:3:16 store.join:', 'empty join', /^expected a non-empty list of store endpoints, got an empty list$/],
  ['stages: 3', 'kjv.yaml:3:9 stages:', 'stages not a map', /^expected a map \(stages by name: read, split.*\), got 3$/],
];
for (const [line, at, what, message] of valueCases) {
  test(`value problem: ${what}`, (t) => {
    const problems = problemsOf(`${BASE}${line}\n`);
    t.is(problems.length, 1, JSON.stringify(problems));
    t.is(problems[0]!.at, at);
    t.regex(problems[0]!.message, message);
  });
}

test('a host name that is not a name is placed at the key', (t) => {
  t.deepEqual(problemsOf(`${BASE}hosts:\n  "gpu 1": { address: 10.0.0.1 }\n`), [{ at: 'kjv.yaml:4:3 hosts.gpu 1:', message: 'expected a host name of letters, digits, _ . -, got "gpu 1"' }]);
});

test('a missing required field is placed at the map that lacks it', (t) => {
  t.deepEqual(problemsOf('order: 3\n'), [{ at: 'kjv.yaml:1:1 inputs:', message: 'expected a list of inputs, each with a path, got nothing' }]);
  t.deepEqual(problemsOf('inputs:\n  - format: text\n'), [{ at: 'kjv.yaml:2:5 inputs[0].path:', message: 'expected a path (a file, a directory, or - for standard input), got nothing' }]);
  t.deepEqual(problemsOf('inputs: []\n'), [{ at: 'kjv.yaml:1:9 inputs:', message: 'expected a non-empty list of inputs, each with a path, got an empty list' }]);
});

test('an unknown field is placed at its key, with the known fields and a guess', (t) => {
  const problems = problemsOf(`${BASE}stages:\n  count:\n    wrokers: 2\n`);
  t.is(problems.length, 1);
  t.is(problems[0]!.at, 'kjv.yaml:5:5 stages.count.wrokers:');
  t.is(problems[0]!.message, 'unknown field (did you mean workers?); the fields here are workers, batch, host, input, endpoint');
  const top = problemsOf(`${BASE}oder: 4\n`);
  t.is(top[0]!.at, 'kjv.yaml:3:1 oder:');
  t.regex(top[0]!.message, /did you mean order\?/);
  const stage = problemsOf(`${BASE}stages:\n  smoothing: {}\n`);
  t.is(stage[0]!.at, 'kjv.yaml:4:3 stages.smoothing:');
  t.regex(stage[0]!.message, /did you mean smooth\?/);
});

test('fields that exclude each other are refused where the second is written', (t) => {
  t.deepEqual(problemsOf(`${BASE}store:\n  actors: 2\n  join: ["tcp://127.0.0.1:5555"]\n`), [
    { at: 'kjv.yaml:5:9 store.join:', message: 'give either store.actors (spawn a store) or store.join (use a running one), not both' },
  ]);
  t.deepEqual(problemsOf(`${BASE}store:\n  join: ["tcp://127.0.0.1:5555"]\n  data: somewhere\n`), [
    { at: 'kjv.yaml:5:9 store.data:', message: 'store.data is for spawned actors; a running store (store.join) keeps its own data' },
  ]);
  t.deepEqual(problemsOf(`${BASE}store:\n  join: ["tcp://127.0.0.1:5555"]\n  address: 10.0.0.4\n`), [
    { at: 'kjv.yaml:5:12 store.address:', message: 'store.address is for spawned actors; a running store (store.join) binds its own' },
  ]);
  t.deepEqual(problemsOf(`${BASE}store:\n  join: ["tcp://127.0.0.1:5555"]\n  dead_after_ms: 20000\n`), [
    { at: 'kjv.yaml:5:18 store.dead_after_ms:', message: 'store.dead_after_ms is for spawned actors; a running store (store.join) keeps its own dead bound' },
  ]);
  const short = problemsOf(`${BASE}store:\n  dead_after_ms: 500\n`);
  t.deepEqual(short.map((p) => p.at), ['kjv.yaml:4:18 store.dead_after_ms:']);
  t.regex(short[0]!.message, /1000/);
  t.deepEqual(problemsOf(`${BASE}store:\n  actors: 2\n  replicas: 3\n`), [{ at: 'kjv.yaml:5:13 store.replicas:', message: 'expected at most store.actors (2) replicas, got 3' }]);
  t.deepEqual(problemsOf('inputs:\n  - path: a.txt\n    format: text\n    config: a.config.json\n'), [
    { at: 'kjv.yaml:4:13 inputs[0].config:', message: 'a dataset config is only for ndjson inputs, and this input has format: text' },
  ]);
  t.deepEqual(problemsOf('inputs:\n  - path: "-"\n    format: ndjson\n'), [
    { at: 'kjv.yaml:2:5 inputs[0].config:', message: 'NDJSON on standard input needs a dataset config (there is no file name to find one beside)' },
  ]);
});

test('hosts and transport: a stage host must be declared, and ipc cannot cross machines', (t) => {
  t.deepEqual(problemsOf(`${BASE}stages:\n  count: { host: gpu1 }\n`), [
    { at: 'kjv.yaml:4:18 stages.count.host:', message: 'host gpu1 is not declared under hosts (none are declared); add hosts.gpu1.address' },
  ]);
  const ipc = problemsOf(`${BASE}hosts: { gpu1: { address: 10.0.0.9 } }\ntransport: { kind: ipc }\nstages:\n  count: { host: gpu1, endpoint: "ipc:///tmp/c.sock" }\n`);
  t.deepEqual(
    ipc.map((p) => p.at),
    ['kjv.yaml:6:18 stages.count.host:', 'kjv.yaml:6:34 stages.count.endpoint:'],
  );
  t.regex(ipc[0]!.message, /transport\.kind is ipc, which cannot cross machines/);
  t.regex(ipc[1]!.message, /ipc:\/\/ endpoint cannot be reached from other machines/);
  t.deepEqual(problemsOf(`${BASE}metrics: { endpoint: "tcp://127.0.0.1:7000" }\nstages:\n  count: { endpoint: "tcp://127.0.0.1:7000" }\n`), [
    { at: 'kjv.yaml:5:22 stages.count.endpoint:', message: 'tcp://127.0.0.1:7000 is already bound by metrics.endpoint: each stage needs its own endpoint' },
  ]);
});

test('YAML syntax errors are placed where the parser stopped', (t) => {
  t.deepEqual(problemsOf(`${BASE}order: 3\norder: 4\n`), [{ at: 'kjv.yaml:4:1 (syntax):', message: 'Map keys must be unique' }]);
  const unclosed = problemsOf(`${BASE}stages:\n  count: { workers: 2\n`);
  t.is(unclosed.length, 1);
  t.is(unclosed[0]!.at, 'kjv.yaml:5:1 (syntax):');
  t.regex(unclosed[0]!.message, /Flow map/);
  t.deepEqual(problemsOf(''), [{ at: 'kjv.yaml:1:1 (top level):', message: 'expected a map (a pipeline definition), got an empty value' }]);
  t.deepEqual(problemsOf('- a\n- b\n'), [{ at: 'kjv.yaml:1:1 (top level):', message: 'expected a map (a pipeline definition), got a list' }]);
});

test('all problems come at once, in file order, each with its own location', (t) => {
  const yaml = `name: x y
inputs:
  - path: a.txt
    format: csv
tokenizer: bpe
order: eleven
stages:
  count: { workers: two, input: parse }
  smooth: { input: materialise }
store: { actors: 2, replicas: 5 }
bogus: 1
`;
  t.deepEqual(
    problemsOf(yaml).map((p) => p.at),
    [
      'kjv.yaml:1:7 name:',
      'kjv.yaml:4:13 inputs[0].format:',
      'kjv.yaml:5:12 tokenizer:',
      'kjv.yaml:6:8 order:',
      'kjv.yaml:8:21 stages.count.workers:',
      'kjv.yaml:8:33 stages.count.input:',
      'kjv.yaml:9:20 stages.smooth.input:',
      'kjv.yaml:10:31 store.replicas:',
      'kjv.yaml:11:1 bogus:',
    ],
    'schema and topology problems together, though stages is invalid as a whole',
  );
});
