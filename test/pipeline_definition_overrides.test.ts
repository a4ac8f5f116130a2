// --set PATH=VALUE overrides: applied before validation, values read as YAML, array indices,
// created parents, removal with null, and problems (bad paths, bad values) placed at the argument.
import test from 'ava';
import { parseOverride, parseOverridePath } from '../pipeline/definition/overrides.js';
import { stageNamed } from '../pipeline/definition/definition.js';
import { loadYaml, problemLines } from './helpers/pipeline_files.js';

const BASE = 'inputs:\n  - path: a.txt\norder: 5\nstages:\n  count: { workers: 2 }\nstore:\n  actors: 3\n';

test('paths: fields, indices, escaped dots', (t) => {
  t.deepEqual(parseOverridePath('order'), ['order']);
  t.deepEqual(parseOverridePath('stages.count.workers'), ['stages', 'count', 'workers']);
  t.deepEqual(parseOverridePath('inputs[0].path'), ['inputs', 0, 'path']);
  t.deepEqual(parseOverridePath('a[1][2].b'), ['a', 1, 2, 'b']);
  t.deepEqual(parseOverridePath('hosts.gpu\\.1.address'), ['hosts', 'gpu.1', 'address']);
  for (const bad of ['', '.order', 'a..b', 'a.', 'inputs[x].path', 'inputs[0', 'inputs[0]path', '[0]']) {
    t.throws(() => parseOverridePath(bad), { message: /^bad path/ }, bad);
  }
});

test('values are YAML scalars (and flow lists)', (t) => {
  t.deepEqual(parseOverride('order=4'), { path: ['order'], value: 4 });
  t.deepEqual(parseOverride('strict=true'), { path: ['strict'], value: true });
  t.deepEqual(parseOverride('name="4"'), { path: ['name'], value: '4' });
  t.deepEqual(parseOverride('inputs[0].path=x=y.txt'), { path: ['inputs', 0, 'path'], value: 'x=y.txt' }, 'only the first = splits');
  t.deepEqual(parseOverride('store.join=[tcp://127.0.0.1:1, tcp://127.0.0.1:2]'), { path: ['store', 'join'], value: ['tcp://127.0.0.1:1', 'tcp://127.0.0.1:2'] });
  t.deepEqual(parseOverride('store.actors=null'), { path: ['store', 'actors'], value: null });
  t.deepEqual(parseOverride('store.actors='), { path: ['store', 'actors'], value: null });
});

test('overrides change the definition before it is validated', (t) => {
  const loaded = loadYaml(BASE, ['order=4', 'store.actors=2', 'inputs[0].path=x.txt', 'stages.count.workers=3', 'stages.read.batch=10']);
  t.deepEqual(problemLines(loaded), []);
  const d = loaded.definition!;
  t.is(d.order, 4);
  t.is(d.store.mode === 'spawn' && d.store.actors.length, 2);
  t.is(d.inputs[0]!.written, 'x.txt');
  t.is(stageNamed(d, 'count')!.workers, 3);
  t.is(stageNamed(d, 'read')!.batch, 10, 'a stage not in the file is created');
});

test('an index may append to a list, and missing parents are created', (t) => {
  const loaded = loadYaml(BASE, ['inputs[1].path=b.txt', 'stages.evaluate.test[0].path=held.txt', 'hosts.gpu1.address=10.0.0.3', 'stages.smooth.host=gpu1']);
  t.deepEqual(problemLines(loaded), []);
  const d = loaded.definition!;
  t.deepEqual(d.inputs.map((i) => i.written), ['a.txt', 'b.txt']);
  t.deepEqual(stageNamed(d, 'evaluate')!.test.map((i) => i.written), ['held.txt']);
  t.is(stageNamed(d, 'smooth')!.host, 'gpu1');
  t.is(d.transport.kind, 'tcp');
});

test('null removes a field so its default applies; later overrides win', (t) => {
  const loaded = loadYaml(BASE, ['order=null', 'store.actors=null', 'store.join=[tcp://127.0.0.1:5555]', 'stages.count.workers=7', 'stages.count.workers=1']);
  t.deepEqual(problemLines(loaded), []);
  const d = loaded.definition!;
  t.is(d.order, 3, 'the default order');
  t.deepEqual(d.store, { mode: 'join', endpoints: ['tcp://127.0.0.1:5555'], replicas: 1 });
  t.is(stageNamed(d, 'count')!.workers, 1);
});

test('a bad override is reported at its argument, with the others and the file problems', (t) => {
  const loaded = loadYaml(`${BASE}tokenizer: bpe\n`, ['inputs[3].path=x', 'order.max=2', 'a..b=1', 'noequals', 'stages.count=[1, 2', 'inputs.path=y']);
  t.deepEqual(problemLines(loaded), [
    '--set "inputs[3].path=x" inputs[3].path: inputs has 1 item: index 3 would leave a gap (use [1] to add one)',
    '--set "order.max=2" order.max: order is 5, not a map or a list: nothing can be set inside it',
    '--set "a..b=1" a..b: bad path "a..b": expected a field name at character 3',
    '--set "noequals" (override): expected PATH=VALUE, e.g. --set order=4',
    '--set "stages.count=[1, 2" stages.count: the value is not valid YAML: Flow sequence must end with a ]',
    '--set "inputs.path=y" inputs.path: inputs is a list: give an index, inputs[0]',
    'kjv.yaml:8:12 tokenizer: expected one of whitespace, regex, got "bpe"',
  ]);
  t.is(loaded.definition, null);
});

test('a schema problem in what an override wrote points at the override, not the file', (t) => {
  const loaded = loadYaml(BASE, ['stages.count.workers=two', 'order=11', 'stages.parse.input=nothing', 'inputs[1].format=text']);
  t.deepEqual(problemLines(loaded), [
    '--set "stages.count.workers=two" stages.count.workers: expected an integer >= 1, got "two"',
    '--set "order=11" order: expected an integer from 1 to 10, got 11',
    '--set "stages.parse.input=nothing" stages.parse.input: expected a stage name (read, split, parse, embed, count, smooth, materialise, evaluate, requeue), got "nothing"',
    '--set "inputs[1].format=text" inputs[1].path: expected a path (a file, a directory, or - for standard input), got nothing',
  ]);
});

test('a field the override did not touch keeps its place in the file', (t) => {
  const loaded = loadYaml(`${BASE}export:\n  arpa: 7\n`, ['export.other=1']);
  t.deepEqual(problemLines(loaded), [
    '--set "export.other=1" export.other: unknown field; the fields here are arpa',
    'kjv.yaml:9:9 export.arpa: expected a file path, got 7',
  ]);
});

test('an override does not write through a YAML alias (it would change every use of the anchor)', (t) => {
  const loaded = loadYaml('inputs: [{ path: a.txt }]\nstages:\n  count: &two { workers: 2 }\n  smooth: *two\n', ['stages.smooth.workers=3']);
  t.deepEqual(problemLines(loaded), ['--set "stages.smooth.workers=3" stages.smooth.workers: stages.smooth is an alias (*two): set the anchored value, or write stages.smooth out in the file']);
  const whole = loadYaml('inputs: [{ path: a.txt }]\nstages:\n  count: &two { workers: 2 }\n  smooth: *two\n', ['stages.smooth={ workers: 3 }']);
  t.deepEqual(problemLines(whole), []);
  t.deepEqual(whole.definition!.stages.map((s) => s.workers), [1, 1, 2, 3, 1], 'replacing the alias itself is fine');
});
