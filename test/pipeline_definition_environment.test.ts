// Environment checks: inputs readable (NDJSON with a dataset config whose fields are in the first
// record), outputs writable, store.address bindable, store.join endpoints answering a ping, and an
// unreachable endpoint failing within the ping timeout instead of hanging.
import test from 'ava';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { datasetConfigCandidates, findDatasetConfig } from '../pipeline/definition/dataset_config.js';
import { formatProblem, sortProblems } from '../pipeline/definition/problems.js';
import { validateEnvironment } from '../pipeline/definition/validate_environment.js';
import { loadYaml } from './helpers/pipeline_files.js';
import { spawnActor } from './helpers/store_procs.js';

const PAIRS_CONFIG = JSON.stringify(
  {
    name: 'pairs',
    prompt_field: 'prompt',
    prompt_label: '|USER|',
    response_field: 'response',
    response_label: '|RESPONSE|',
    context_fields: [{ field: 'book', label: 'Book', token_name: 'book', canonical_tag: '|CTX|' }],
  },
  null,
  2,
);
const PAIR = '{"prompt": "In the beginning", "response": "And the earth", "book": "Ge"}\n';

/** Load `yaml` in a fresh directory holding `files`, check the environment; problems as printed, with DIR/ for the directory. */
async function environmentProblems(yaml: string, files: Record<string, string> = {}, pingTimeoutMs = 1000): Promise<string[]> {
  const loaded = loadYaml(yaml, [], files);
  const problems = [...loaded.problems, ...(await validateEnvironment(loaded, { pingTimeoutMs }))];
  return sortProblems(problems).map((p) => formatProblem(p).split(loaded.dir + path.sep).join('DIR/'));
}

test('a valid definition whose inputs exist and outputs can be written has no problems', async (t) => {
  const files = { 'corpus/a.txt': 'a b c\n', 'corpus/more/b.txt': 'd e\n', 'held.txt': 'a b\n', 'pairs.train.ndjson': PAIR, 'pairs.config.json': PAIRS_CONFIG };
  const yaml = `inputs:
  - path: corpus
  - path: pairs.train.ndjson
  - path: "-"
stages:
  evaluate: { test: [{ path: held.txt }] }
store: { data: state/store }
export: { arpa: out/model.arpa }
transport: { dir: sockets }
`;
  t.deepEqual(await environmentProblems(yaml, files), []);
});

test('a missing input, an empty directory and a missing test file are each placed at their path', async (t) => {
  const yaml = `inputs:
  - path: missing.txt
  - path: empty
stages:
  evaluate:
    test: [{ path: nope/held.txt }]
`;
  const dir = { 'empty/.hidden': 'hidden files do not count\n' };
  t.deepEqual(await environmentProblems(yaml, dir), [
    'kjv.yaml:2:11 inputs[0].path: no such file or directory: DIR/missing.txt',
    'kjv.yaml:3:11 inputs[1].path: the directory DIR/empty has no files',
    'kjv.yaml:6:20 stages.evaluate.test[0].path: no such file or directory: DIR/nope/held.txt',
  ]);
});

test('the dataset config rule: the longest <prefix>.config.json beside the data', (t) => {
  t.deepEqual(
    datasetConfigCandidates('/d/kjv.pairs.train.ndjson').map((c) => path.basename(c)),
    ['kjv.pairs.train.config.json', 'kjv.pairs.config.json', 'kjv.config.json'],
  );
  const loaded = loadYaml('inputs: [{ path: a.txt }]\n', [], { 'kjv.pairs.train.ndjson': PAIR, 'kjv.pairs.config.json': PAIRS_CONFIG, 'kjv.config.json': '{}' });
  t.is(findDatasetConfig(path.join(loaded.dir, 'kjv.pairs.train.ndjson')), path.join(loaded.dir, 'kjv.pairs.config.json'));
  fs.writeFileSync(path.join(loaded.dir, 'kjv.pairs.train.config.json'), PAIRS_CONFIG);
  t.is(findDatasetConfig(path.join(loaded.dir, 'kjv.pairs.train.ndjson')), path.join(loaded.dir, 'kjv.pairs.train.config.json'), 'a split may have its own');
});

test('the shared corpora: kjv.pairs.train.ndjson finds kjv.pairs.config.json', async (t) => {
  const shared = path.resolve('..', 'shared', 'corpora', 'kjv.pairs.train.ndjson');
  if (!fs.existsSync(shared)) return t.pass('../shared is absent');
  t.is(findDatasetConfig(shared), path.join(path.dirname(shared), 'kjv.pairs.config.json'));
  t.deepEqual(await environmentProblems(`inputs: [{ path: ${JSON.stringify(shared)} }]\n`), []);
});

test('NDJSON problems: no config found, a config that is not valid, a field the data lacks, a record that is not JSON', async (t) => {
  const badConfig = '{\n  "prompt_field": "prompt",\n  "prompt_label": "",\n  "response_field": "response",\n  "response_label": "|RESPONSE|"\n}\n';
  const wrongField = PAIRS_CONFIG.replace('"response_field": "response"', '"response_field": "answer"');
  const files = {
    'lonely.ndjson': PAIR,
    'bad.ndjson': PAIR,
    'bad.config.json': badConfig,
    'wrong.ndjson': PAIR,
    'wrong.config.json': wrongField,
    'broken.jsonl': '\n{"prompt": \n',
    'conf/explicit.json': PAIRS_CONFIG,
  };
  const yaml = `inputs:
  - path: lonely.ndjson
  - path: bad.ndjson
  - path: wrong.ndjson
  - path: broken.jsonl
    config: conf/explicit.json
  - path: lonely.ndjson
    config: conf/missing.json
`;
  t.deepEqual(await environmentProblems(yaml, files), [
    'kjv.yaml:2:11 inputs[0].path: no dataset config for DIR/lonely.ndjson: looked for lonely.config.json beside it; add one, or name it with config:',
    'kjv.yaml:8:13 inputs[4].config: no such dataset config: DIR/conf/missing.json',
    'DIR/bad.config.json:3:19 prompt_label: expected a non-empty label, such as |USER|, got ""',
    'DIR/wrong.config.json:5:21 response_field: field "answer" is not in the first record of DIR/wrong.ndjson (it has prompt, response, book)',
    'DIR/broken.jsonl:2:1 (first record): not JSON: Unexpected end of JSON input',
  ]);
});

test('outputs: a directory under a file, or one that cannot be written, is refused', async (t) => {
  const yaml = `inputs: [{ path: a.txt }]
store: { data: blocker/store }
export: { arpa: "/proc/dbslm-no-such/model.arpa" }
`;
  t.deepEqual(await environmentProblems(yaml, { 'a.txt': 'a\n', blocker: 'a file, not a directory\n' }), [
    'kjv.yaml:2:16 store.data: cannot write store data in DIR/blocker/store: DIR/blocker is a file, not a directory',
    'kjv.yaml:3:17 export.arpa: cannot write the ARPA file in /proc/dbslm-no-such: /proc is not writable (ENOENT)',
  ]);
  const isRoot = process.getuid?.() === 0;
  if (isRoot) return t.log('running as root: a read-only directory would still be writable, so only the cases above are checked');
  const loaded = loadYaml('inputs: [{ path: a.txt }]\nexport: { arpa: locked/out/model.arpa }\n', [], { 'a.txt': 'a\n', 'locked/keep': '' });
  fs.chmodSync(path.join(loaded.dir, 'locked'), 0o555);
  t.teardown(() => fs.chmodSync(path.join(loaded.dir, 'locked'), 0o755));
  const problems = await validateEnvironment(loaded);
  t.deepEqual(problems.map((p) => p.path), ['export.arpa']);
  t.regex(problems[0]!.message, /locked is not writable \(EACCES\)/);
});

test('the default store directory is checked too, and an ARPA path that is a directory is refused', async (t) => {
  t.deepEqual(await environmentProblems('inputs: [{ path: a.txt }]\n', { 'a.txt': 'a\n', out: 'a file where out/ would go\n' }), [
    'kjv.yaml:1:1 store.data: cannot write store data (the default directory) in DIR/out/kjv.store: DIR/out is a file, not a directory',
  ]);
  t.deepEqual(await environmentProblems('inputs: [{ path: a.txt }]\nexport: { arpa: models }\n', { 'a.txt': 'a\n', 'models/keep': '' }), [
    'kjv.yaml:2:17 export.arpa: DIR/models is a directory; name the ARPA file to write',
  ]);
});

/** A TCP port nothing listens on: bound, then released. */
async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test.serial('store.address: another loopback address binds; one not on this machine, or not loopback without CURVE keys, is refused', async (t) => {
  const files = { 'a.txt': 'a\n' };
  t.deepEqual(await environmentProblems('inputs: [{ path: a.txt }]\nstore:\n  address: 127.0.0.3\n', files), []);
  // (Serial, and put back as it was: the other tests here start store actors with this environment.)
  const keys = ['DBSLM_STORE_CURVE_PUBLIC', 'DBSLM_STORE_CURVE_SECRET'] as const;
  const saved = keys.map((k) => process.env[k]);
  t.teardown(() =>
    keys.forEach((k, i) => {
      if (saved[i] === undefined) delete process.env[k];
      else process.env[k] = saved[i];
    }),
  );
  for (const k of keys) delete process.env[k];
  // (TEST-NET-1, 192.0.2.0/24: documentation only, never an address of this machine.)
  const plain = await environmentProblems('inputs: [{ path: a.txt }]\nstore:\n  address: 192.0.2.1\n', files);
  t.is(plain.length, 1);
  t.regex(plain[0]!, /^kjv\.yaml:3:12 store\.address: 192\.0\.2\.1 is not a loopback address, .*DBSLM_STORE_CURVE_PUBLIC/);
  process.env.DBSLM_STORE_CURVE_PUBLIC = 'x';
  process.env.DBSLM_STORE_CURVE_SECRET = 'y';
  const keyed = await environmentProblems('inputs: [{ path: a.txt }]\nstore:\n  address: 192.0.2.1\n', files);
  t.deepEqual(keyed, ['kjv.yaml:3:12 store.address: cannot bind 192.0.2.1 on this machine (EADDRNOTAVAIL): give an address of one of its interfaces']);
});

test('store.join: an endpoint nothing listens on fails within the ping timeout, naming it', async (t) => {
  const port = await deadPort();
  const started = performance.now();
  const problems = await environmentProblems(`inputs: [{ path: a.txt }]\nstore:\n  join: ["tcp://127.0.0.1:${port}"]\n`, { 'a.txt': 'a\n' }, 800);
  const took = performance.now() - started;
  t.deepEqual(problems, [`kjv.yaml:3:10 store.join[0]: no store actor answered a ping at tcp://127.0.0.1:${port} within 800 ms (is it running, and is the address right?)`]);
  t.true(took < 5000, `took ${took.toFixed(0)} ms`);
});

test('store.join: a running store actor answers; only the dead endpoint is reported', async (t) => {
  const actor = await spawnActor(t, 'pipedef-a');
  const port = await deadPort();
  const problems = await environmentProblems(`inputs: [{ path: a.txt }]\nstore:\n  join:\n    - ${actor.ep}\n    - tcp://127.0.0.1:${port}\n`, { 'a.txt': 'a\n' }, 1500);
  t.deepEqual(problems.map((p) => p.split(': ')[0]), ['kjv.yaml:5:7 store.join[1]']);
});
