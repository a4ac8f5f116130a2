// Valid pipeline definitions become typed PipelineDefinitions: defaults filled in, paths resolved
// against the YAML file's directory, stages with their inputs, store actors named.
import test from 'ava';
import path from 'node:path';
import { stageNamed, type PipelineDefinition } from '../pipeline/definition/definition.js';
import { loadPipeline } from '../pipeline/definition/load.js';
import { ROOT } from './helpers/paths.js';
import { loadYaml, problemLines } from './helpers/pipeline_files.js';

function valid(yaml: string, overrides: string[] = []): PipelineDefinition & { dir: string } {
  const loaded = loadYaml(yaml, overrides);
  if (loaded.definition === null) throw new Error(`expected a valid definition, got:\n${problemLines(loaded).join('\n')}`);
  return { ...loaded.definition, dir: loaded.dir };
}

test('the smallest definition gets every default', (t) => {
  const d = valid('inputs:\n  - path: corpus.txt\n');
  t.is(d.name, 'kjv', 'the name defaults to the file name');
  t.is(d.file, path.join(d.dir, 'kjv.yaml'));
  t.is(d.baseDir, d.dir);
  t.deepEqual(d.inputs, [{ path: path.join(d.dir, 'corpus.txt'), written: 'corpus.txt', format: 'text', config: null }]);
  t.is(d.tokenizer, 'whitespace');
  t.is(d.order, 3);
  t.false(d.discountFallback);
  t.false(d.strict);
  t.false(d.reset);
  t.is(d.description, null);
  t.deepEqual(
    d.stages.map((s) => [s.name, s.workers, s.batch, s.host, s.inputs, s.endpoint]),
    [
      ['read', 1, 1000, null, [], null],
      ['split', 1, 1000, null, ['read'], null],
      ['count', 1, 1000, null, ['split'], null],
      ['smooth', 1, 1000, null, ['count'], null],
      ['materialise', 1, 1000, null, ['smooth'], null],
    ],
  );
  const materialise = stageNamed(d, 'materialise')!;
  t.deepEqual([materialise.k, materialise.bits], [32, 8]);
  t.is(stageNamed(d, 'evaluate'), undefined, 'optional stages run only when listed');
  t.deepEqual(
    d.edges.map((e) => `${e.from}->${e.to}`),
    ['read->split', 'split->count', 'count->smooth', 'smooth->materialise'],
  );
  t.deepEqual(d.hosts, {});
  t.deepEqual(d.transport, { kind: 'ipc', dir: null });
  t.deepEqual(d.metrics, { port: null, endpoint: null });
  const storeDir = path.join(d.dir, 'out', 'kjv.store');
  t.deepEqual(d.store, { mode: 'spawn', dataDir: storeDir, actors: [{ id: 'kjv-store-1', dataDir: path.join(storeDir, 'kjv-store-1') }], replicas: 1, deadAfterMs: 15000 });
  t.deepEqual(d.export, { arpa: null });
});

test('the example from the brief: fields as written, paths resolved against the YAML file', (t) => {
  const d = valid(`
name: kjv5
inputs:
  - path: ../shared/corpora/kjv.train.txt
tokenizer: whitespace
order: 5
stages:
  count: { workers: 2 }
store:
  actors: 3
export:
  arpa: out/kjv5.arpa
`);
  t.is(d.name, 'kjv5');
  t.is(d.inputs[0]!.path, path.resolve(d.dir, '..', 'shared', 'corpora', 'kjv.train.txt'));
  t.is(d.order, 5);
  t.is(stageNamed(d, 'count')!.workers, 2);
  t.is(stageNamed(d, 'split')!.workers, 1);
  t.is(d.export.arpa, path.join(d.dir, 'out', 'kjv5.arpa'));
  t.is(d.store.mode, 'spawn');
  if (d.store.mode === 'spawn') t.deepEqual(d.store.actors.map((a) => a.id), ['kjv5-store-1', 'kjv5-store-2', 'kjv5-store-3']);
});

test('every field a definition can name reaches the typed definition', (t) => {
  const d = valid(`
name: full
description: all of it
inputs:
  - path: a.txt
  - path: /abs/pairs.train.ndjson
  - path: b.jsonl.gz
    config: conf/b.config.json
  - path: records
    format: ndjson
    config: conf/r.config.json
  - path: "-"
tokenizer: regex
order: 4
discount_fallback: true
strict: true
reset: true
stages:
  read: { batch: 500 }
  parse:
  count: { workers: 3, host: big, endpoint: "tcp://10.0.0.2:7001" }
  materialise: { k: 8, bits: 4 }
  evaluate:
    test: [{ path: held.txt }]
    samples: 5
    seed: 7
  requeue: { input: evaluate }
hosts:
  big: { address: 10.0.0.2 }
transport: { dir: sockets }
metrics: { port: 9464, endpoint: "tcp://127.0.0.1:7100" }
store: { actors: 2, data: state, address: 127.0.0.3, replicas: 2, dead_after_ms: 20000 }
export: { arpa: model.arpa }
`);
  t.is(d.description, 'all of it');
  t.deepEqual(
    d.inputs.map((i) => [i.written, i.format, i.config && path.relative(d.dir, i.config)]),
    [
      ['a.txt', 'text', null],
      ['/abs/pairs.train.ndjson', 'ndjson', null],
      ['b.jsonl.gz', 'ndjson', path.join('conf', 'b.config.json')],
      ['records', 'ndjson', path.join('conf', 'r.config.json')],
      ['-', 'text', null],
    ],
  );
  t.is(d.inputs[4]!.path, '-', 'standard input is not a path');
  t.deepEqual([d.tokenizer, d.order, d.discountFallback, d.strict, d.reset], ['regex', 4, true, true, true]);
  t.deepEqual(
    d.stages.map((s) => s.name),
    ['read', 'split', 'parse', 'count', 'smooth', 'materialise', 'evaluate', 'requeue'],
  );
  t.is(stageNamed(d, 'read')!.batch, 500);
  t.deepEqual(stageNamed(d, 'parse')!.inputs, ['split'], 'an empty stage entry lists the stage with its defaults');
  t.deepEqual(stageNamed(d, 'count')!.inputs, ['parse']);
  const count = stageNamed(d, 'count')!;
  t.deepEqual([count.workers, count.host, count.endpoint], [3, 'big', 'tcp://10.0.0.2:7001']);
  const materialise = stageNamed(d, 'materialise')!;
  t.deepEqual([materialise.k, materialise.bits], [8, 4]);
  const evaluate = stageNamed(d, 'evaluate')!;
  t.deepEqual([evaluate.test.map((i) => i.path), evaluate.samples, evaluate.seed], [[path.join(d.dir, 'held.txt')], 5, 7]);
  t.deepEqual(stageNamed(d, 'requeue')!.inputs, ['evaluate']);
  t.deepEqual(d.hosts, { big: { address: '10.0.0.2' } });
  t.deepEqual(d.transport, { kind: 'tcp', dir: path.join(d.dir, 'sockets') }, 'a stage on another host makes tcp the default');
  t.deepEqual(d.metrics, { port: 9464, endpoint: 'tcp://127.0.0.1:7100' });
  t.deepEqual(d.store, {
    mode: 'spawn',
    dataDir: path.join(d.dir, 'state'),
    actors: [
      { id: 'full-store-1', dataDir: path.join(d.dir, 'state', 'full-store-1') },
      { id: 'full-store-2', dataDir: path.join(d.dir, 'state', 'full-store-2') },
    ],
    replicas: 2,
    deadAfterMs: 20000,
    address: '127.0.0.3',
  });
  t.is(d.export.arpa, path.join(d.dir, 'model.arpa'));
});

test('store.join uses a running store', (t) => {
  const d = valid('inputs: [{ path: a.txt }]\nstore:\n  join: ["tcp://10.0.0.1:5555", "ipc:///run/store.sock"]\n');
  t.deepEqual(d.store, { mode: 'join', endpoints: ['tcp://10.0.0.1:5555', 'ipc:///run/store.sock'], replicas: 1 });
});

test('the definition is plain data: it survives JSON, as sent to workers', (t) => {
  const d = valid('inputs: [{ path: a.txt }]\nstages: { evaluate: { samples: 2 } }\n');
  const { dir: _dir, ...definition } = d;
  t.deepEqual(JSON.parse(JSON.stringify(definition)), definition);
});

test('the shipped pipelines are valid definitions', (t) => {
  const quickstart = loadPipeline(path.join(ROOT, 'config', 'pipelines', 'quickstart.yaml'));
  t.deepEqual(problemLines(quickstart), []);
  const q = quickstart.definition!;
  t.is(q.inputs[0]!.path, path.join(ROOT, 'config', 'corpus', 'kjv.sample.txt'));
  t.is(q.order, 3);
  t.is(q.store.mode === 'spawn' && q.store.actors.length, 2);
  t.is(q.export.arpa, path.join(ROOT, 'out', 'quickstart.3.arpa'));
  const evaluate = stageNamed(q, 'evaluate')!;
  t.deepEqual(evaluate.test.map((i) => i.path), [path.join(ROOT, 'config', 'corpus', 'kjv.sample.test.txt')]);
  t.is(evaluate.samples, 5);

  const kjv5 = loadPipeline(path.join(ROOT, 'config', 'pipelines', 'kjv5.yaml'));
  t.deepEqual(problemLines(kjv5), []);
  const k = kjv5.definition!;
  t.is(k.inputs[0]!.path, path.resolve(ROOT, '..', 'shared', 'corpora', 'kjv.train.txt'));
  t.is(k.order, 5);
  t.is(k.store.mode === 'spawn' && k.store.actors.length, 3);
  t.is(stageNamed(k, 'count')!.workers, 2);
});
