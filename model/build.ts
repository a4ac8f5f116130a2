// The whole Level-1 estimation chain, in KenLM lmplz's order:
// corpus_count -> adjust_counts -> discounts -> interpolate. Pure: ids in, model out (the
// memory-bounded variant also spills sorted runs of counts to a temporary directory).
import { adjustCounts } from './adjust_counts.js';
import type { BoundedCountOptions } from './count_runs.js';
import { countNgrams, type NgramCounts, type NgramPaths } from './corpus_count.js';
import { estimateDiscounts, type Discounts } from './discounts.js';
import { InputError } from './errors.js';
import { interpolate } from './interpolate.js';
import { entryCounts, type LanguageModel } from './language_model.js';
import { markPruned } from './prune.js';
import type { Vocab } from './vocab.js';

export const MAX_ORDER = 10;

/**
 * Memory estimation takes per distinct n-gram, whatever the corpus size: the trie's node arrays
 * and hash slots, raw and continuation counts, and the interpolated log10 p and backoff (measured:
 * about 127 bytes on KJV order 5). A `--memory` budget bounds counting, not this.
 */
export const MODEL_BYTES_PER_NGRAM = 130;

export interface BuildOptions {
  order: number;
  discountFallback?: boolean;
  /** Count-pruning thresholds per order (index 0 unused), from pruneThresholds; none when absent. */
  prune?: readonly number[] | null;
  onPhase?: (phase: string) => void;
  /** Called once counting is done, with the number of distinct n-grams (before smoothing). */
  onCounted?: (ngrams: number) => void;
  onProgress?: (phase: string, done: number, total: number) => void;
}

export interface BuiltModel {
  lm: LanguageModel;
  discounts: Discounts;
  countsOfCounts: number[][];
  /** Entries per order, index 0 unused. */
  counts: number[];
  /** Sorted runs counting wrote to disk (0 when it fit its budget or had none). */
  runs: number;
  /** Where the n-grams lie in the corpus, when it was counted whole (for the ARPA writer). */
  paths?: NgramPaths;
}

export function checkOrder(order: number): void {
  if (!Number.isInteger(order) || order < 1 || order > MAX_ORDER) {
    throw new InputError(`--order must be a whole number from 1 to ${MAX_ORDER}, got ${order}`, undefined, undefined, 'use e.g. --order 3 or --order 5');
  }
}

export function buildModel(ids: Int32Array, vocab: Vocab, options: BuildOptions): BuiltModel {
  checkCorpus(options, vocab);
  options.onPhase?.('counting');
  const counts = countNgrams(ids, options.order, (d, t) => options.onProgress?.('counting', d, t));
  return estimate(counts, vocab, options, 0);
}

/** buildModel from the counts countNgrams gives (reached another way: on a second thread, cli/io/count_parallel.ts). */
export function buildModelFromCounts(counts: NgramCounts, vocab: Vocab, options: BuildOptions): BuiltModel {
  checkCorpus(options, vocab);
  return estimate(counts, vocab, options, 0);
}

/**
 * buildModel with counting held to a memory budget (count_runs.ts): the same model, exactly. The
 * corpus ids come in pieces of whole records, in corpus order (one piece: the whole corpus), and
 * `vocab` may still be filling as they come (a corpus read a piece at a time): it is checked once
 * counting has seen them all.
 */
export async function buildModelBounded(pieces: Iterable<Int32Array> | AsyncIterable<Int32Array>, vocab: Vocab, options: BuildOptions, memory: BoundedCountOptions): Promise<BuiltModel> {
  checkOrder(options.order);
  options.onPhase?.('counting');
  // Imported here: only a build within a budget needs the sorted runs' code.
  const { countNgramsBounded } = await import('./count_runs.js');
  const counts = await countNgramsBounded(pieces, options.order, memory);
  checkCorpus(options, vocab);
  return estimate(counts, vocab, options, counts.runs);
}

function checkCorpus(options: BuildOptions, vocab: Vocab): void {
  checkOrder(options.order);
  if (vocab.size <= 3) {
    throw new InputError('the corpus has no words', undefined, undefined, 'pass a non-empty training text');
  }
}

function estimate(counts: NgramCounts, vocab: Vocab, options: BuildOptions, runs: number): BuiltModel {
  options.onCounted?.(counts.trie.size - 1);
  options.onPhase?.('adjusting counts');
  const adjusted = adjustCounts(counts);
  const discounts = estimateDiscounts(adjusted.countsOfCounts, options.order, options.discountFallback ?? false);
  options.onPhase?.('interpolating');
  const pruned = options.prune ? markPruned(counts, options.prune) : undefined;
  const lm = interpolate(counts.trie, vocab, options.order, adjusted, discounts, pruned);
  const entries = pruned ? entryCounts(lm) : lm.trie.countsByOrder(options.order);
  return { lm, discounts, countsOfCounts: adjusted.countsOfCounts, counts: entries, runs, paths: counts.paths };
}
