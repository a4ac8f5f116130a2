// What a pipeline run does with the model's last run (store/model/training_run.ts, pure).
import test from 'ava';
import { planTrainingRun, startedRun, type TrainingInput, type TrainingRun } from '../store/model/training_run.js';

const a: TrainingInput = { path: '/c/a.txt', bytes: 10, mtimeMs: 1 };
const b: TrainingInput = { path: '/c/b.txt', bytes: 20, mtimeMs: 2 };
const aChanged: TrainingInput = { ...a, bytes: 11 };
const run = (over: Partial<TrainingRun>): TrainingRun => ({ generation: 1, order: 3, tokenizer: 'whitespace', earlier: [], inputs: [a], counted: true, complete: true, startedMs: 0, ...over });
const want = (inputs: TrainingInput[], over: Partial<{ order: number; tokenizer: string; reset: boolean }> = {}) => ({ order: 3, tokenizer: 'whitespace', inputs, reset: false, ...over });

test('a new model counts every input as generation 1', (t) => {
  t.deepEqual(planTrainingRun(undefined, want([a, b]), 'm'), { kind: 'count', generation: 1, inputs: [a, b], resume: false, reset: false });
});

test('new text is counted as the next generation, text counted before is not counted again', (t) => {
  const plan = planTrainingRun(run({}), want([a, b]), 'm');
  t.deepEqual(plan, { kind: 'count', generation: 2, inputs: [b], resume: false, reset: false });
  if (plan.kind !== 'count') return;
  t.deepEqual(startedRun(run({}), plan, 3, 'whitespace').earlier, [a]);
});

test('the same inputs again change nothing; an unfinished smoothing is redone', (t) => {
  t.deepEqual(planTrainingRun(run({}), want([a]), 'm'), { kind: 'unchanged', generation: 1, smooth: false });
  t.deepEqual(planTrainingRun(run({ complete: false }), want([a]), 'm'), { kind: 'unchanged', generation: 1, smooth: true });
});

test('a changed file is new text', (t) => {
  t.is(planTrainingRun(run({}), want([aChanged]), 'm').kind, 'count');
});

test('a run cut off while counting resumes under its generation, or is refused for other inputs', (t) => {
  const cut = run({ generation: 2, earlier: [a], inputs: [b], counted: false, complete: false });
  t.deepEqual(planTrainingRun(cut, want([a, b]), 'm'), { kind: 'count', generation: 2, inputs: [b], resume: true, reset: false });
  const refused = planTrainingRun(cut, want([a, aChanged]), 'm');
  t.is(refused.kind, 'refuse');
  if (refused.kind === 'refuse') t.regex(refused.reason, /did not finish.*reset: true/s);
});

test('another order or tokenizer is refused unless reset', (t) => {
  const refused = planTrainingRun(run({}), want([a], { order: 4 }), 'm');
  t.is(refused.kind, 'refuse');
  if (refused.kind === 'refuse') t.regex(refused.reason, /order 3 .* order 4/);
  t.is(planTrainingRun(run({}), want([a], { tokenizer: 'regex' }), 'm').kind, 'refuse');
  t.deepEqual(planTrainingRun(run({}), want([a], { order: 4, reset: true }), 'm'), { kind: 'count', generation: 1, inputs: [a], resume: false, reset: true });
});
