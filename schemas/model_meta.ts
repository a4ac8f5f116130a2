// The one value of a model's `<model>.meta` key (store/model/layout.ts): what the model is, how
// many entries of each order it has, and a version that grows with every import or materialise.
// `layout` is the record's first field, so its leading bytes are the layout number whatever later
// layouts add: a reader checks it before decoding the rest.
import { avroType } from './command.js';

/** Modified Kneser-Ney discounts of one order, when the writer knows them (an ARPA does not say). */
export interface OrderDiscounts {
  order: number;
  d1: number;
  d2: number;
  d3plus: number;
}

/** The Top-K heads of a model (`<model>.topk`, store/model/layout.ts): their K, bits and codebook. */
export interface TopKMeta {
  k: number;
  bits: number;
  /** The value of code c is centers[c] (log10 p), ascending. */
  centers: number[];
  /** Heads written: contexts with followers of their own, the empty context included. */
  rows: number;
  /** Entries over all heads. */
  entries: number;
}

export interface ModelMeta {
  /** The store layout of the model (store/model/layout.ts MODEL_LAYOUT). */
  layout: number;
  /**
   * False from the moment an import or materialise starts writing until its last key is written:
   * a model left half-written by a crash is never read as whole, and is replaced only on request.
   */
  complete: boolean;
  /** Grows with every import or materialise of this model name, so caches keyed by it are never stale. */
  version: number;
  order: number;
  /** The tokenizer text must be split with to be read against the model (model/tokenizer.ts). */
  tokenizer: string;
  /** Words in `<model>.vocab`: ids 0 .. vocabSize - 1, every one present. */
  vocabSize: number;
  /** Entries of each order in `<model>.p`: counts[0] unigrams ... counts[order - 1]. */
  counts: number[];
  discounts: OrderDiscounts[];
  /** Where the model came from, e.g. `arpa:/data/kjv5.arpa.gz` or `pipeline:kjv5`. */
  source: string;
  /** When the writer started, in ms since the Unix epoch. */
  writtenMs: number;
  /** The Top-K heads; null when the model has none (a meta written before heads existed, or while they are built). */
  topk: TopKMeta | null;
}

export const ModelMetaType = avroType({
  type: 'record',
  name: 'dbslm.model.ModelMeta',
  fields: [
    { name: 'layout', type: 'int' },
    { name: 'complete', type: 'boolean' },
    { name: 'version', type: 'long' },
    { name: 'order', type: 'int' },
    { name: 'tokenizer', type: 'string' },
    { name: 'vocabSize', type: 'long' },
    { name: 'counts', type: { type: 'array', items: 'long' } },
    {
      name: 'discounts',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'dbslm.model.OrderDiscounts',
          fields: [
            { name: 'order', type: 'int' },
            { name: 'd1', type: 'double' },
            { name: 'd2', type: 'double' },
            { name: 'd3plus', type: 'double' },
          ],
        },
      },
    },
    { name: 'source', type: 'string' },
    { name: 'writtenMs', type: 'long' },
    {
      name: 'topk',
      type: [
        'null',
        {
          type: 'record',
          name: 'dbslm.model.TopKMeta',
          fields: [
            { name: 'k', type: 'int' },
            { name: 'bits', type: 'int' },
            { name: 'centers', type: { type: 'array', items: 'double' } },
            { name: 'rows', type: 'long' },
            { name: 'entries', type: 'long' },
          ],
        },
      ],
      default: null,
    },
  ],
});

/**
 * A meta as written before `topk` was added (same layout number: the keys it describes did not
 * change, the model just has no heads). Appended fields leave the old bytes a prefix of the new
 * record, so a reader tries the current record first and this one when the bytes end early.
 */
export const ModelMetaWithoutTopKType = avroType({
  type: 'record',
  name: 'dbslm.model.ModelMetaWithoutTopK',
  fields: [
    { name: 'layout', type: 'int' },
    { name: 'complete', type: 'boolean' },
    { name: 'version', type: 'long' },
    { name: 'order', type: 'int' },
    { name: 'tokenizer', type: 'string' },
    { name: 'vocabSize', type: 'long' },
    { name: 'counts', type: { type: 'array', items: 'long' } },
    { name: 'discounts', type: { type: 'array', items: 'dbslm.model.OrderDiscounts' } },
    { name: 'source', type: 'string' },
    { name: 'writtenMs', type: 'long' },
  ],
});

/** The first field, decoded alone: the layout number of a meta value of any layout. */
export const MetaLayoutType = avroType({ type: 'record', name: 'dbslm.model.MetaLayout', fields: [{ name: 'layout', type: 'int' }] });
