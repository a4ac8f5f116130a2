// Level 3 (generate/speculative.ts): drafting concept spans and verifying them changes nothing in
// distribution (2- and 3-word continuations, with and without controls, against the exact joint
// distribution computed independently by model/distribution.ts); the store round trips per token
// are counted and reported with and without it, and fewer with it; the same seed gives the same
// text from a file and from a store, with and without Level 3.
import test from 'ava';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { NextWordDistribution } from '../model/distribution.js';
import { seededRandom } from '../model/sample.js';
import { BOS } from '../model/vocab.js';
import { contextKeyOf, DictionaryConcepts, mineConcepts } from '../generate/concept_mining.js';
import { ModelContextSource } from '../generate/context_source.js';
import { applyControls, EXACT_CONTROLS, type Controls } from '../generate/controls.js';
import { Decoder } from '../generate/decoder.js';
import { Engine } from '../generate/engine.js';
import { nextWords } from '../generate/speculative.js';
import { chiSquare } from './helpers/chi_square.js';
import { buildFromFile } from './helpers/corpus.js';
import { BUNDLED_TRAIN, CLI } from './helpers/paths.js';
import { spawnActor, tmpDir } from './helpers/store_procs.js';

const lm = buildFromFile(BUNDLED_TRAIN, 3).lm;
const dictionary = mineConcepts(lm);
const exact = new NextWordDistribution(lm);
const DRAWS = 40_000;

/** A history whose longest context has a drafted span, the case where speculation does something. */
function draftedHistory(): number[] {
  for (const [key, span] of dictionary) {
    const context = key.split(' ').map(Number);
    if (context.length === 2 && context[0] === BOS && span.length >= 3) return context;
  }
  throw new Error('no drafted context after <s>');
}

function controlled(history: number[], controls: Controls): Float64Array {
  return applyControls(exact.probabilities(history), controls, []);
}

/** The exact probabilities of the `length`-word continuations of `history` worth a cell, and the rest. */
function joint(history: number[], length: number, controls: Controls, draws: number): Map<string, number> {
  const cells = new Map<string, number>();
  const walk = (h: number[], prefix: number[], mass: number) => {
    const p = controlled(h, controls);
    const top = [...p.keys()].filter((w) => p[w]! * mass * draws >= 1).sort((a, b) => p[b]! - p[a]!).slice(0, prefix.length === length - 1 ? undefined : 40);
    for (const w of top) {
      if (prefix.length === length - 1) cells.set([...prefix, w].join(' '), mass * p[w]!);
      else walk([...h, w], [...prefix, w], mass * p[w]!);
    }
  };
  walk(history, [], 1);
  return cells;
}

async function fit(history: number[], length: number, controls: Controls, speculative: boolean, seed: number, draws: number) {
  const decoder = new Decoder(new ModelContextSource(lm), seededRandom(seed));
  const concepts = new DictionaryConcepts(dictionary, lm.order);
  const stats = { drafts: 0, drafted: 0, accepted: 0 };
  const seen = new Map<string, number>();
  for (let i = 0; i < draws; i++) {
    // Resolved promises never yield to the event loop: let timers and IO in now and then.
    if (i % 2000 === 0) await new Promise((r) => setImmediate(r));
    const out: number[] = [];
    while (out.length < length) {
      const h = [...history, ...out];
      if (speculative) out.push(...(await nextWords(decoder, concepts, h, { controls, generated: out, bansAt: () => [], stops: [] }, stats)));
      else out.push(await decoder.next(h, controls, out));
    }
    const key = out.slice(0, length).join(' ');
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  const cells = joint(history, length, controls, draws);
  const expected = [...cells.values()];
  const observed = [...cells.keys()].map((k) => seen.get(k) ?? 0);
  const rest = Math.max(0, 1 - expected.reduce((a, b) => a + b, 0));
  expected.push(rest);
  observed.push(draws - observed.reduce((a, b) => a + b, 0));
  return { ...chiSquare(observed, expected, draws), stats };
}

// The controlled case builds the whole distribution at every position: fewer draws keep it quick.
for (const [length, controls, name, draws] of [
  [2, EXACT_CONTROLS, 'exact', DRAWS],
  [3, EXACT_CONTROLS, 'exact', DRAWS],
  [2, { ...EXACT_CONTROLS, topP: 0.9, temperature: 0.8 }, 'top-p 0.9, temperature 0.8', 10_000],
] as const) {
  test.serial(`${length}-word continuations have the same distribution with and without Level 3 (${name}, chi-square, ${draws / 1000}k each)`, async (t) => {
    const history = draftedHistory();
    t.log(`history "${history.map((w) => lm.vocab.word(w)).join(' ')}", drafted span "${Array.from(dictionary.get(contextKeyOf(history))!, (w) => lm.vocab.word(w)).join(' ')}"`);
    const plain = await fit(history, length, controls, false, 1, draws);
    const drafted = await fit(history, length, controls, true, 2, draws);
    t.log(`without Level 3: chi-square ${plain.statistic.toFixed(1)}, df ${plain.df}, p ${plain.pValue.toFixed(3)}; with: ${drafted.statistic.toFixed(1)}, df ${drafted.df}, p ${drafted.pValue.toFixed(3)}; drafted words accepted ${drafted.stats.accepted} of ${drafted.stats.drafted}`);
    t.true(plain.pValue > 1e-3, `without Level 3: p ${plain.pValue}`);
    t.true(drafted.pValue > 1e-3, `with Level 3: p ${drafted.pValue}`);
    t.true(drafted.stats.accepted > 0, 'drafts were accepted: the speculative path ran');
  });
}

test.serial('store round trips per token are counted, fewer with Level 3, and the same seed gives the same text from a file and a store, with and without Level 3', async (t) => {
  const dir = tmpDir();
  const arpa = path.join(dir, 'm.arpa');
  const run = promisify(execFile);
  await run(process.execPath, [CLI, 'build', '--order', '3', '--arpa', arpa, BUNDLED_TRAIN]);
  const actor = await spawnActor(t, 'concepts');
  await run(process.execPath, [CLI, 'store', 'import', '--no-topk', '--arpa', arpa, '--model', 'm', '--connect', actor.ep, '--quiet']);
  const missing = await run(process.execPath, [CLI, 'generate', '--connect', actor.ep, '--model', 'm', '--concepts']).catch((e: { stderr: string; code: number }) => e);
  t.regex((missing as { stderr: string }).stderr, /has no concept dictionary .*dbslm concepts mine --connect/s);
  await run(process.execPath, [CLI, 'concepts', 'mine', '--connect', actor.ep, '--model', 'm', '--quiet']);
  const perToken = async (concepts: boolean) => {
    const engine = await Engine.open({ connect: actor.ep, model: 'm' });
    const texts: string[] = [];
    for (let i = 0; i < 30; i++) texts.push((await engine.generate({ seed: i, maxTokens: 30, concepts })).text);
    engine.close();
    return { rounds: engine.stats.rounds / engine.stats.tokens, texts, speculation: engine.stats.speculation, tokens: engine.stats.tokens };
  };
  const without = await perToken(false);
  const withConcepts = await perToken(true);
  const s = withConcepts.speculation;
  t.log(`store round trips per token: ${without.rounds.toFixed(3)} without Level 3, ${withConcepts.rounds.toFixed(3)} with it (${without.tokens} and ${withConcepts.tokens} tokens; ${s.drafts} drafts, ${s.accepted} of ${s.drafted} drafted words accepted)`);
  // Counted: every token needs at most one round, the first ones (cold cache) at least one in all.
  for (const r of [without, withConcepts]) t.true(r.rounds > 0 && r.rounds <= 1, `${r.rounds} rounds per token`);
  t.true(s.accepted > 0 && s.accepted <= s.drafted);
  // Verification draws as plain decoding does: the same words, and accepted drafts save rounds.
  t.deepEqual(withConcepts.texts, without.texts);
  t.true(withConcepts.rounds < without.rounds, `${withConcepts.rounds} rounds per token with Level 3, ${without.rounds} without`);
  const file = await Engine.open({ file: arpa });
  const fromFile: string[] = [];
  for (let i = 0; i < 30; i++) fromFile.push((await file.generate({ seed: i, maxTokens: 30, concepts: true })).text);
  t.deepEqual(withConcepts.texts, fromFile);
});
