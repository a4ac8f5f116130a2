// A quantized model in a binary file: its tables hold each value as its codebook center, read back
// as the quantized ARPA text reads (so scores equal those of the quantized ARPA), and the
// per-order codebooks are stored beside them with the bits, so the file says what it is and the
// codes can be recovered (encode() of a value against its order's codebook).
import { arpaReadBack } from '../float32_text.js';
import { asArpaReadsBack } from '../arpa_read_back.js';
import type { QuantizedModel } from '../quantize.js';
import type { SectionData } from './container.js';
import { modelSections, type BinaryMeta } from './model_file.js';

export const probBookSection = (k: number): string => `codebook.prob.${k}`;
export const backoffBookSection = (k: number): string => `codebook.backoff.${k}`;

export function quantizedSections(q: QuantizedModel): { meta: BinaryMeta; sections: Map<string, SectionData> } {
  const { meta, sections } = modelSections(asArpaReadsBack(q.lm));
  for (let k = 2; k <= q.lm.order; k++) {
    sections.set(probBookSection(k), q.probBooks[k].centers.map(arpaReadBack));
    if (k < q.lm.order) sections.set(backoffBookSection(k), q.backoffBooks[k].centers.map(arpaReadBack));
  }
  return { meta: { ...meta, quantizedBits: q.bits }, sections };
}
