// Writing a model file in the format the command line asks for: `--to arpa|binary`, or else by
// the file's extension (.arpa: ARPA text; .dbslm: binary). Binary files are written whole or not
// at all, as ARPA files are (atomic_file.ts).
import path from 'node:path';
import { asArpaReadsBack } from '../../model/arpa_read_back.js';
import { encodeContainer } from '../../model/binary/container.js';
import { modelSections } from '../../model/binary/model_file.js';
import { quantizedSections } from '../../model/binary/quantized.js';
import { addTopK } from '../../model/binary/topk_file.js';
import { InputError } from '../../model/errors.js';
import type { LanguageModel } from '../../model/language_model.js';
import type { QuantizedModel } from '../../model/quantize.js';
import type { TopKOptions } from '../options.js';
import { writeFileAtomic } from './atomic_file.js';

export type OutputFormat = 'arpa' | 'binary';

export const OUTPUT_FORMATS: readonly OutputFormat[] = ['arpa', 'binary'];

export function outputFormatOf(file: string, to?: string): OutputFormat {
  if (to !== undefined) {
    if (!(OUTPUT_FORMATS as readonly string[]).includes(to)) throw new InputError(`--to ${to}: expected one of ${OUTPUT_FORMATS.join(', ')}`);
    return to as OutputFormat;
  }
  const ext = path.extname(file).toLowerCase();
  if (ext === '.arpa') return 'arpa';
  if (ext === '.dbslm') return 'binary';
  throw new InputError(`cannot tell the output format from the name "${path.basename(file)}"`, undefined, undefined, 'name it *.arpa or *.dbslm, or say --to arpa or --to binary');
}

/**
 * Writes `lm` as a binary model file. `lm` holds either values read from ARPA text, or values
 * straight from a build (`fromBuild`), which are first rounded as their ARPA text would read
 * back, so that the binary scores exactly as the ARPA of the same build.
 */
export function writeBinaryModel(file: string, lm: LanguageModel, fromBuild: boolean, topk?: TopKOptions): number {
  const model = fromBuild ? asArpaReadsBack(lm) : lm;
  let { meta, sections, placed } = modelSections(model);
  if (topk) meta = addTopK(model, placed.index, meta, sections, topk.k, topk.bits);
  return writeFileAtomic(file, encodeContainer(meta, sections));
}

export function writeQuantizedBinaryModel(file: string, q: QuantizedModel): number {
  const { meta, sections } = quantizedSections(q);
  return writeFileAtomic(file, encodeContainer(meta, sections));
}
