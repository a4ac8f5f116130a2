// Smoothing counted statistics into a finished model inside the store (store/model/smooth/), with
// real actor processes: the bundled KJV sample is counted into `<model>.stat` as the pipeline's
// count stage does (statOpsOf, exactly-once batches), smoothed by smoothModel, read back with
// readModel, and compared with buildModel on the same text: the same vocabulary order, the same
// n-grams, log10 p and backoff within 1e-9. One actor and a 3-actor cluster give byte-identical
// ARPA files, and counting every batch twice changes nothing. The orders' shares an actor keeps
// from its adjust pass equal those it would read back from the store after a restart.
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import { InputError } from '../model/errors.js';
import { EOS_TOKEN, UNK_TOKEN } from '../model/vocab.js';
import { StoreClient } from '../store/client/client.js';
import { IncompleteModelError } from '../store/model/stored_meta.js';
import { readModel } from '../store/model/read_model.js';
import { adjustStats } from '../store/model/smooth/adjust_stats.js';
import { OrderSplit, splitOrders } from '../store/model/smooth/order_shares.js';
import { smoothModel } from '../store/model/smooth/smooth_model.js';
import { allForks } from '../store/model/smooth/stat_scan.js';
import { readVocabIndex } from '../store/model/smooth/vocab_assign.js';
import { balancedTrio } from './helpers/cluster_procs.js';
import { buildFromText } from './helpers/corpus.js';
import { arpaText, assertSameModel } from './helpers/model_compare.js';
import { BUNDLED_TRAIN } from './helpers/paths.js';
import { countText } from './helpers/stat_counting.js';
import { spawnActor } from './helpers/store_procs.js';

const TEXT = fs.readFileSync(BUNDLED_TRAIN, 'utf8');
const ORDERS = [3, 5];
/** ARPA text per order from the one-actor store, for the 3-actor test to compare with. */
const oneActorArpa = new Map<number, Buffer>();

/** Counts `text` into `model`, smooths it, checks it against the in-process model; returns its ARPA text. */
async function countSmoothCompare(t: ExecutionContext, client: StoreClient, model: string, order: number, text: string, where: string, times = 1): Promise<Buffer> {
  let started = performance.now();
  await countText(client, model, order, text, times);
  const countMs = performance.now() - started;
  started = performance.now();
  const result = await smoothModel(client, { model, order, tokenizer: 'whitespace', discountFallback: false, source: `test:${model}` });
  const smoothMs = performance.now() - started;
  const phases = Object.entries(result.phaseMs).map(([p, ms]) => `${p} ${ms.toFixed(0)}`).join(', ');
  t.log(`${where} order ${order}: counting ${countMs.toFixed(0)} ms, smoothModel ${smoothMs.toFixed(0)} ms (${phases})`);

  const built = buildFromText(text, order);
  t.deepEqual(result.countsOfCounts, built.countsOfCounts, 'counts-of-counts');
  t.deepEqual(result.counts, built.counts.slice(1), 'n-grams per order');
  result.discounts.forEach((d, i) => t.deepEqual([d.d1, d.d2, d.d3plus], built.discounts[i + 1]!.slice(1), `discounts of order ${i + 1}`));
  const { lm, meta } = await readModel(client, model, { where });
  t.true(meta.complete);
  t.is(meta.vocabSize, built.lm.vocab.size);
  assertSameModel(t, lm, built.lm, 1e-9);
  return arpaText(lm);
}

test.serial('one actor: orders 3 and 5 smoothed in the store equal the in-process model', async (t) => {
  t.timeout(900000);
  const actor = await spawnActor(t, 'smooth-one');
  const client = await StoreClient.connect(actor.ep);
  t.teardown(() => client.close());
  for (const order of ORDERS) oneActorArpa.set(order, await countSmoothCompare(t, client, `kjv${order}`, order, TEXT, 'one actor'));
});

test.serial('three actors: the same models, and ARPA files byte-identical to the one-actor ones', async (t) => {
  t.timeout(900000);
  const { client } = await balancedTrio(t);
  for (const order of ORDERS) {
    const arpa = await countSmoothCompare(t, client, `kjv${order}`, order, TEXT, 'three actors');
    const one = oneActorArpa.get(order);
    if (one) t.true(arpa.equals(one), `order ${order}: the ARPA text from three actors is the one from one actor`);
    else t.fail('the one-actor test did not produce its ARPA text to compare with');
  }
});

/**
 * The orders' shares an actor keeps from its adjust pass (order_shares.ts OrderSplit) equal the
 * ones read back from the store after it (an actor that restarted before interpolating splits
 * again): one walk over every order's keys, and one order's namespace alone. One fork at a time,
 * so ranges come in one order in every case.
 */
async function sameShares(t: ExecutionContext, client: StoreClient, model: string, order: number): Promise<void> {
  const { meta } = await readModel(client, model, { where: 'shares' });
  const vocab = await readVocabIndex(client, model, meta.vocabSize);
  const forks = allForks(client);
  const kept = new OrderSplit(vocab, 1, order);
  await adjustStats(client, model, order, forks, { forksAtOnce: 1, onRange: (k, range, followers, a) => kept.add(k, range, followers, a) });
  const fromAdjust = kept.done();
  // The interpolation adds <unk> and </s> as unigrams when the statistics lack them.
  const addedUnseen = [UNK_TOKEN, EOS_TOKEN].filter((w) => !fromAdjust[0]!.ids.includes(vocab.idOf(w))).length;
  t.deepEqual(fromAdjust.map((share, i) => share.ids.length + (i === 0 ? addedUnseen : 0)), meta.counts, 'every n-gram in its order\'s share');
  t.deepEqual(await splitOrders(client, model, order, vocab, forks, 1, order, { forksAtOnce: 1 }), fromAdjust, 'orders 1..N split from the store');
  for (let k = 1; k <= order; k++) t.deepEqual((await splitOrders(client, model, order, vocab, forks, k, k, { forksAtOnce: 1 }))[0], fromAdjust[k - 1], `order ${k} alone`);
}

test.serial('counting every batch twice under the same producers leaves the model unchanged', async (t) => {
  t.timeout(600000);
  const actor = await spawnActor(t, 'smooth-twice');
  const client = await StoreClient.connect(actor.ep);
  t.teardown(() => client.close());
  // 1500 lines: two batches of 1000 lines and a shorter one, the last line without its newline.
  const text = TEXT.split('\n').slice(0, 1500).join('\n');
  const once = await countSmoothCompare(t, client, 'once', 3, text, 'counted once');
  await sameShares(t, client, 'once', 3);
  const twice = await countSmoothCompare(t, client, 'twice', 3, text, 'counted twice', 2);
  t.true(twice.equals(once), 'the same ARPA text');
});

test.serial('too little text: the discount error names the order as build does, the model stays incomplete, and --discount-fallback smooths it', async (t) => {
  t.timeout(120000);
  const actor = await spawnActor(t, 'smooth-small');
  const client = await StoreClient.connect(actor.ep);
  t.teardown(() => client.close());
  const text = TEXT.split('\n').slice(0, 3).join('\n') + '\n';
  const inProcess = t.throws(() => buildFromText(text, 3), { instanceOf: InputError });
  await countText(client, 'small', 3, text);
  const opts = { model: 'small', order: 3, tokenizer: 'whitespace', discountFallback: false, source: 'test:small' };
  const err = await t.throwsAsync(smoothModel(client, opts), { instanceOf: InputError });
  t.is(err!.message, inProcess!.message);
  t.regex(err!.message, /for order \d/);
  await t.throwsAsync(readModel(client, 'small', { where: actor.ep }), { instanceOf: IncompleteModelError });
  await smoothModel(client, { ...opts, discountFallback: true });
  const { lm } = await readModel(client, 'small', { where: actor.ep });
  assertSameModel(t, lm, buildFromText(text, 3, true).lm, 1e-9);
});
