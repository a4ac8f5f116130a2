// The batch tracker, pure: what is in flight, what to redeliver after a crash, when a run is complete.
import test from 'ava';
import { BatchTracker } from '../pipeline/runtime/batch_tracker.js';

test('a run is complete when every input is read to its end and every emitted batch is acked', (t) => {
  const tr = new BatchTracker([0, 1]);
  t.deepEqual(tr.start(), [
    { input: 0, skip: [], only: null },
    { input: 1, skip: [], only: null },
  ]);
  t.true(tr.emitted(0, 0));
  t.true(tr.emitted(0, 100));
  t.true(tr.emitted(1, 0));
  t.is(tr.inFlight, 3);
  tr.taskDone(0, false);
  tr.taskDone(1, false);
  t.false(tr.complete);
  t.true(tr.acked(0, 0));
  t.true(tr.acked(1, 0));
  t.false(tr.complete);
  t.true(tr.acked(0, 100));
  t.is(tr.inFlight, 0);
  t.true(tr.complete);
  t.is(tr.ackedCount, 3);
});

test('an input not read to its end keeps the run incomplete even with nothing in flight', (t) => {
  const tr = new BatchTracker([0]);
  tr.start();
  tr.emitted(0, 0);
  tr.acked(0, 0);
  t.false(tr.complete);
  tr.taskDone(0, false);
  t.true(tr.complete);
});

test('an ack counts once: a duplicate ack (a redelivered batch) and an emit after the ack change nothing', (t) => {
  const tr = new BatchTracker([0]);
  tr.start();
  tr.emitted(0, 7);
  t.true(tr.acked(0, 7));
  t.false(tr.acked(0, 7));
  t.false(tr.emitted(0, 7), 'an emit that arrives after its ack is not in flight');
  t.is(tr.inFlight, 0);
  t.is(tr.ackedCount, 1);
});

test('an ack that overtakes its emit is counted and the late emit ignored', (t) => {
  const tr = new BatchTracker([0]);
  tr.start();
  t.true(tr.acked(0, 5));
  t.false(tr.emitted(0, 5));
  tr.taskDone(0, false);
  t.true(tr.complete);
});

test('a downstream crash redelivers exactly the batches in flight, grouped by input', (t) => {
  const tr = new BatchTracker([0, 1]);
  tr.start();
  for (const o of [0, 10, 20]) tr.emitted(0, o);
  tr.emitted(1, 0);
  tr.acked(0, 10);
  t.deepEqual(tr.redeliveries(), [
    { input: 0, skip: [], only: [0, 20] },
    { input: 1, skip: [], only: [0] },
  ]);
  t.is(tr.redeliveriesPending, 2);
  tr.taskDone(0, true);
  t.is(tr.redeliveriesPending, 1);
});

test('a lost source re-reads unfinished inputs skipping acked and in-flight batches, and redelivers the in-flight ones', (t) => {
  const tr = new BatchTracker([0, 1]);
  tr.start();
  tr.emitted(0, 0);
  tr.emitted(0, 10);
  tr.acked(0, 0);
  tr.emitted(1, 0);
  tr.acked(1, 0);
  tr.taskDone(1, false);
  t.deepEqual(tr.sourceLost(), [
    { input: 0, skip: [0, 10], only: null },
    { input: 0, skip: [], only: [10] },
  ]);
});

test('a checkpoint is skipped by the first tasks and its batches count as acked', (t) => {
  const tr = new BatchTracker([0, 1], new Map([[0, [30, 0, 10]]]));
  t.deepEqual(tr.start(), [
    { input: 0, skip: [0, 10, 30], only: null },
    { input: 1, skip: [], only: null },
  ]);
  t.false(tr.emitted(0, 10));
  t.false(tr.acked(0, 30));
  t.is(tr.ackedCount, 0);
  t.deepEqual(tr.ackedOffsets(0).sort((a, b) => a - b), [0, 10, 30]);
});

test('a batch of an input the run does not have is an error naming the inputs', (t) => {
  const tr = new BatchTracker([0]);
  t.throws(() => tr.emitted(3, 0), { message: /unknown input 3 .*inputs 0/ });
});
