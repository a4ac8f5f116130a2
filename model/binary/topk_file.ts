// Top-K from a binary model file: written with `--topk K`, the file holds the follower index
// (followers.ts) and the codebook of the heads of K followers at --topk-bits, which topk prints
// beside each value; a head is then computed per query from the index, never for all contexts.
import type { LanguageModel } from '../language_model.js';
import type { QueryIndex } from '../query_index.js';
import { encode, type Codebook } from '../quantize.js';
import { buildTopK } from '../topk.js';
import type { SectionData } from './container.js';
import { FollowerIndex, followerSections, followersSection, HEAD_CODEBOOK_SECTION, type Head } from './followers.js';
import type { BinaryMeta, BinaryModel } from './model_file.js';

/** Adds the follower index and the heads' codebook; building the codebook costs one Top-K build. */
export function addTopK(lm: LanguageModel, index: QueryIndex, meta: BinaryMeta, sections: Map<string, SectionData>, k: number, bits: number): BinaryMeta {
  for (const [name, list] of followerSections(index, lm.vocab.size)) sections.set(name, list);
  sections.set(HEAD_CODEBOOK_SECTION, buildTopK(lm, k, bits).codebook.centers);
  return { ...meta, topk: { k, bits } };
}

export interface HeadRow extends Head {
  /** The codebook value of each entry. */
  quantized: number[];
}

/** The follower index of a file written with --topk, when its K and bits are the ones asked for. */
export function openTopK(bm: BinaryModel, k: number, bits: number): ((history: readonly number[]) => HeadRow) | undefined {
  if (!bm.meta.topk || bm.meta.topk.k !== k || bm.meta.topk.bits !== bits) return undefined;
  const lists: Int32Array[] = [new Int32Array(0)];
  for (let o = 1; o <= bm.meta.order; o++) {
    const b = bm.sections.get(followersSection(o))!;
    lists.push(new Int32Array(b.buffer, b.byteOffset, b.byteLength >> 2));
  }
  const c = bm.sections.get(HEAD_CODEBOOK_SECTION)!;
  const codebook: Codebook = { centers: new Float64Array(c.buffer, c.byteOffset, c.byteLength >> 3), zeroCode: false };
  const followers = new FollowerIndex(bm.index, lists);
  return (history) => {
    const head = followers.head(history, k);
    return { ...head, quantized: head.values.map((v) => codebook.centers[encode(codebook, v)]) };
  };
}
