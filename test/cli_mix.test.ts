// `dbslm mix` end to end through the CLI: EM weights and perplexities printed, the static model
// written, and that model (and a plain `build` one) accepted by KenLM's query and build_binary,
// with query's perplexity equal to `dbslm ppl`'s. The KenLM part skips, saying so, without ../shared.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BUNDLED_TEST, BUNDLED_TRAIN, CLI, HAS_SHARED, SHARED, SHARED_SKIP_NOTE } from './helpers/paths.js';
import { tempDir } from './helpers/temp_dir.js';

const tmp = tempDir('dbslm-cli-mix-');
test.after.always(() => fs.rmSync(tmp, { recursive: true, force: true }));
const file = (name: string) => path.join(tmp, name);

function dbslm(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const train = fs.readFileSync(BUNDLED_TRAIN, 'utf8').split('\n');
fs.writeFileSync(file('a.txt'), train.slice(0, 1200).join('\n') + '\n');
fs.writeFileSync(file('b.txt'), train.slice(1200).join('\n'));
const held = fs.readFileSync(BUNDLED_TEST, 'utf8').split('\n');
fs.writeFileSync(file('dev.txt'), held.slice(0, 250).join('\n') + '\n');
fs.writeFileSync(file('test.txt'), held.slice(250).join('\n'));
for (const [name, order] of [['a', 3], ['b', 2]] as const) {
  const r = dbslm(['build', '--order', String(order), '--arpa', file(`${name}.arpa`), '-q', file(`${name}.txt`)]);
  if (r.code !== 0) throw new Error(r.stderr);
}

const perplexityOf = (out: string, label: string): number => Number(new RegExp(`${label}: perplexity ([0-9.]+)`).exec(out)?.[1]);

test('mix --tune prints EM weights and perplexities; --out writes a static model ppl reads', (t) => {
  const r = dbslm(['mix', '--model', file('a.arpa'), '--model', file('b.arpa'), '--tune', file('dev.txt'), '--out', file('ab.arpa')]);
  t.is(r.code, 0, r.stderr);
  const weights = /^weights ([0-9.]+),([0-9.]+) \(EM, \d+ iterations\)$/m.exec(r.stdout);
  t.truthy(weights, r.stdout);
  t.true(Math.abs(Number(weights![1]) + Number(weights![2]) - 1) < 1e-5);
  const exact = perplexityOf(r.stdout, 'exact mixture on dev');
  const staticPpl = perplexityOf(r.stdout, 'static model on dev');
  const alone = [1, 2].map((i) => Number(new RegExp(`model ${i} .*alone on dev: perplexity ([0-9.]+)`).exec(r.stdout)?.[1]));
  t.true(exact > 0 && staticPpl > 0 && alone.every((p) => p > exact), r.stdout);
  t.true(Math.abs(staticPpl / exact - 1) < 0.05, r.stdout);
  t.regex(r.stdout, /^static model .*ab\.arpa: weights [0-9.,]+; n-grams \d+\/\d+\/\d+$/m);
  // The static model scores through ppl as mix reported it.
  const ppl = dbslm(['ppl', '--arpa', file('ab.arpa'), file('dev.txt')]);
  t.is(ppl.code, 0, ppl.stderr);
  const printed = Number(/Perplexity including OOVs:\t([0-9.]+)/.exec(ppl.stdout)?.[1]);
  t.true(Math.abs(printed / staticPpl - 1) < 1e-4, `${printed} vs ${staticPpl}`);
});

test('ppl and sample take several --model with --weights: the exact mixture, as mix reports it', (t) => {
  const tuned = dbslm(['mix', '--model', file('a.arpa'), '--model', file('b.arpa'), '--tune', file('dev.txt')]);
  t.is(tuned.code, 0, tuned.stderr);
  const weights = /^weights ([0-9.,]+) /m.exec(tuned.stdout)![1]!;
  const ppl = dbslm(['ppl', '--model', file('a.arpa'), '--model', file('b.arpa'), '--weights', weights, '--per-sentence', file('dev.txt')]);
  t.is(ppl.code, 0, ppl.stderr);
  const printed = Number(/Perplexity including OOVs:\t([0-9.]+)/.exec(ppl.stdout)?.[1]);
  t.true(Math.abs(printed - perplexityOf(tuned.stdout, 'exact mixture on dev')) < 1e-3, `${printed} vs ${tuned.stdout}`);
  t.is(ppl.stdout.split('\n').filter((l) => l.startsWith('Total: ')).length, 250);
  const sample = (seed: string) => dbslm(['sample', '--model', file('a.arpa'), '--model', file('b.arpa'), '--weights', '0.5,0.5', '--n', '4', '--seed', seed, '--raw']);
  const first = sample('9');
  t.is(first.code, 0, first.stderr);
  t.is(first.stdout.trim().split('\n').length, 4);
  t.is(sample('9').stdout, first.stdout);
  // Mixing is for ppl and sample; elsewhere, and with a store, a second --model is refused.
  t.regex(dbslm(['topk', '--model', file('a.arpa'), '--model', file('b.arpa'), '--context', 'the']).stderr, /Give --model once/);
  t.regex(dbslm(['ppl', '--model', file('a.arpa'), '--weights', '1', file('dev.txt')]).stderr, /--weights mixes models/);
});

test('mix refuses one model, a wrong number of weights, and a run with nothing to do', (t) => {
  t.regex(dbslm(['mix', '--model', file('a.arpa'), '--tune', file('dev.txt')]).stderr, /two or more --model/);
  const wrong = dbslm(['mix', '--model', file('a.arpa'), '--model', file('b.arpa'), '--weights', '0.2,0.3,0.5', '--out', file('x.arpa')]);
  t.is(wrong.code, 1);
  t.regex(wrong.stderr, /--weights has 3 values for 2 models/);
  t.regex(dbslm(['mix', '--model', file('a.arpa'), '--model', file('b.arpa')]).stderr, /--tune DEV\.txt .*--out OUT\.arpa/);
  t.false(fs.existsSync(file('x.arpa')));
});

test("KenLM's query and build_binary accept the ARPA files build and mix write, and query agrees with ppl", (t) => {
  if (!HAS_SHARED) return t.pass(SHARED_SKIP_NOTE);
  const kenlm = path.join(SHARED, 'tools', 'kenlm');
  const mixed = file('ab2.arpa');
  t.is(dbslm(['mix', '--model', file('a.arpa'), '--model', file('b.arpa'), '--weights', '0.3,0.7', '--out', mixed]).code, 0);
  for (const model of [file('a.arpa'), mixed]) {
    const query = spawnSync(path.join(kenlm, 'query'), [model], { input: fs.readFileSync(file('test.txt')), encoding: 'utf8' });
    t.is(query.status, 0, `query ${model}: ${query.stderr}`);
    const theirs = Number(/Perplexity including OOVs:\t([0-9.]+)/.exec(query.stdout)?.[1]);
    const ours = Number(/Perplexity including OOVs:\t([0-9.]+)/.exec(dbslm(['ppl', '--arpa', model, file('test.txt')]).stdout)?.[1]);
    t.true(theirs > 0 && Math.abs(theirs / ours - 1) < 1e-5, `${model}: query ${theirs}, ppl ${ours}`);
    const binary = spawnSync(path.join(kenlm, 'build_binary'), [model, `${model}.bin`], { encoding: 'utf8' });
    t.is(binary.status, 0, `build_binary ${model}: ${binary.stderr}`);
    t.true(fs.statSync(`${model}.bin`).size > 0);
  }
});
