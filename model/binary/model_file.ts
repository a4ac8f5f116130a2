// What a binary model file holds, on top of the container (container.ts): the vocabulary, the
// probing tables exactly as the Scorer uses them (query_index.ts), and for each order the table
// slots of its n-grams in the model's own order, which is all it takes to rebuild the trie, and
// from it an ARPA file byte-identical to the one the model came from (rebuild.ts).
//
// Scoring needs only the vocabulary and the tables: typed-array views onto the file's buffer.
// The tables are filled to at most BINARY_LOAD rather than the in-memory 0.5: on KJV order 5 the
// file is a third smaller, which is most of the load time, and probes measured no slower
// (bench/query.ts prints both).
import { InputError } from '../errors.js';
import { entryCounts, type LanguageModel } from '../language_model.js';
import { placeQueryIndex, slotStride, type QueryIndex } from '../query_index.js';
import { ByteWordIndex } from '../byte_words.js';
import { Vocab } from '../vocab.js';
import { openContainer, type SectionData } from './container.js';

export const BINARY_LOAD = 0.75;

export interface BinaryMeta {
  order: number;
  vocabSize: number;
  /** Entries of each order (index 0 unused): the ARPA header's counts. */
  counts: number[];
  /** Set for a quantized model: the bits of its codes (the tables hold the codebook values). */
  quantizedBits?: number;
  /** Set when the file holds a follower index and the codebook of the heads of K followers (topk_file.ts). */
  topk?: { k: number; bits: number };
}

export interface BinaryModel {
  file: string;
  meta: BinaryMeta;
  /** The vocabulary (made on first use: `ppl` looks its text's words up in `words` alone). */
  readonly vocab: Vocab;
  /** The vocabulary's words by their bytes, made at open without a string of any word (byte_words.ts). */
  words: ByteWordIndex;
  index: QueryIndex;
  /** nodeSlots[k] (k >= 2): the slots of the order-k n-grams, in the order the model lists them. */
  nodeSlots: Int32Array[];
  /** Every section, for the optional parts (codebooks, follower index). */
  sections: Map<string, Uint8Array>;
}

export const tableSection = (k: number): string => `table.${k}`;
export const nodesSection = (k: number): string => `nodes.${k}`;

/** The sections of a model; callers add optional ones (codebooks, follower index) to the map. */
export function modelSections(lm: LanguageModel): { meta: BinaryMeta; sections: Map<string, SectionData>; placed: ReturnType<typeof placeQueryIndex> } {
  const placed = placeQueryIndex(lm, BINARY_LOAD);
  const { index, slotOf } = placed;
  const sections = new Map<string, SectionData>();
  sections.set('vocab', Buffer.from(lm.vocab.words.join('\n'), 'utf8'));
  sections.set('unigramSlot', index.unigramSlot);
  for (let k = 1; k <= lm.order; k++) sections.set(tableSection(k), index.tables[k]);
  const counts = lm.trie.countsByOrder(lm.order);
  const nodeSlots = counts.map((c) => new Int32Array(c));
  const filled = new Array<number>(lm.order + 1).fill(0);
  const { order: nodeOrder, size } = lm.trie;
  for (let n = 1; n < size; n++) {
    const k = nodeOrder[n];
    if (k >= 2) nodeSlots[k][filled[k]++] = slotOf[n];
  }
  for (let k = 2; k <= lm.order; k++) sections.set(nodesSection(k), nodeSlots[k]);
  return { meta: { order: lm.order, vocabSize: lm.vocab.size, counts: entryCounts(lm) }, sections, placed };
}

const int32s = (b: Uint8Array): Int32Array => new Int32Array(b.buffer, b.byteOffset, b.byteLength >> 2);

/**
 * Opens a file read whole into `bytes`: checks it and makes views; refuses anything inconsistent.
 * `crc`: the checksum of the bytes when the reader already took it (container.ts openContainer).
 */
export function readBinaryModel(bytes: Uint8Array, file: string, crc?: number): BinaryModel {
  const { meta, sections } = openContainer<BinaryMeta>(bytes, file, crc);
  const fail = (what: string): never => {
    throw new InputError(`corrupt binary model: ${what}`, file);
  };
  const section = (name: string): Uint8Array => sections.get(name) ?? fail(`section ${name} is missing`);
  const list = section('vocab');
  let words: ByteWordIndex;
  try {
    words = ByteWordIndex.ofList(list);
  } catch (err) {
    return fail((err as Error).message);
  }
  if (words.size !== meta.vocabSize) fail(`${words.size} words where the header declares ${meta.vocabSize}`);
  let vocab: Vocab | undefined;
  // Checked above: every word once, as many as declared.
  const vocabOf = (): Vocab => {
    const made = new Vocab();
    for (const word of Buffer.from(list.buffer, list.byteOffset, list.byteLength).toString('utf8').split('\n')) made.intern(word);
    return made;
  };
  const tables: Int32Array[] = [new Int32Array(0)];
  const values: Float64Array[] = [new Float64Array(0)];
  const slotCounts: number[] = [0];
  const strides: number[] = [0];
  const nodeSlots: Int32Array[] = [new Int32Array(0), new Int32Array(0)];
  for (let k = 1; k <= meta.order; k++) {
    const t = int32s(section(tableSection(k)));
    strides.push(slotStride(k, meta.order));
    const slots = t.length / strides[k];
    if (k === 1 ? slots !== words.size : !Number.isInteger(slots) || slots < 1024) fail(`table of order ${k} has ${slots} slots`);
    tables.push(t);
    values.push(new Float64Array(t.buffer, t.byteOffset, t.length >> 1));
    slotCounts.push(k === 1 ? 0 : slots);
    if (k >= 2) {
      nodeSlots.push(int32s(section(nodesSection(k))));
      // A probe ends at an empty slot: a table with none would never end one.
      if (nodeSlots[k].length >= slots) fail(`table of order ${k} has ${slots} slots for ${nodeSlots[k].length} n-grams`);
    }
  }
  const unigramSlot = int32s(section('unigramSlot'));
  if (unigramSlot.length !== words.size) fail(`unigram slots for ${unigramSlot.length} words, not ${words.size}`);
  return {
    file,
    meta,
    get vocab() {
      return (vocab ??= vocabOf());
    },
    words,
    index: { order: meta.order, tables, values, slotCounts, strides, unigramSlot },
    nodeSlots,
    sections,
  };
}
