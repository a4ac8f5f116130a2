// The exactly-once bookkeeping of a producer's batches (store/client/batch_sequence.ts): fresh seqs,
// and a floor that stays at the oldest batch not yet settled, however the batches settle.
import test from 'ava';
import { BatchSequence } from '../store/client/batch_sequence.js';

test('seqs are handed out in order from the first one', (t) => {
  const seqs = new BatchSequence(41);
  t.is(seqs.floor, 41);
  t.deepEqual([seqs.take(), seqs.take(), seqs.take()], [41, 42, 43]);
});

test('the floor stays at the oldest unsettled batch and jumps past everything settled behind it', (t) => {
  const seqs = new BatchSequence();
  const [a, b, c] = [seqs.take(), seqs.take(), seqs.take()];
  seqs.settle(b);
  seqs.settle(c);
  t.is(seqs.floor, a, 'a batch still being resent fell below the floor');
  seqs.settle(a);
  t.is(seqs.floor, 4);
  const d = seqs.take();
  t.is(d, 4);
  t.is(seqs.floor, 4);
});

test('settling a seq twice, or one never taken, moves the floor no further than the settled ones allow', (t) => {
  const seqs = new BatchSequence();
  const a = seqs.take();
  seqs.take();
  seqs.settle(a);
  seqs.settle(a);
  seqs.settle(99);
  t.is(seqs.floor, 2);
});
