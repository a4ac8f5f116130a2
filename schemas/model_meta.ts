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
  ],
});

/** The first field, decoded alone: the layout number of a meta value of any layout. */
export const MetaLayoutType = avroType({ type: 'record', name: 'dbslm.model.MetaLayout', fields: [{ name: 'layout', type: 'int' }] });
