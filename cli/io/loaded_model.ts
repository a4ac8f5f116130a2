// A model file as commands use it, whatever its kind (load_model.ts reads one): the probing tables
// at once, the trie only when asked for. A binary model's wrapper lives here, apart from the
// loader, so that `ppl` of a prefetched binary model loads none of the ARPA reader's modules.
import type { BinaryModel } from '../../model/binary/model_file.js';
import { rebuildLanguageModel } from '../../model/binary/rebuild.js';
import type { ByteWordIndex } from '../../model/byte_words.js';
import type { LanguageModel } from '../../model/language_model.js';
import type { QueryIndex } from '../../model/query_index.js';
import type { Vocab } from '../../model/vocab.js';

export type ModelFormat = 'arpa' | 'binary';

/** A loaded model file: what scoring needs at once, the trie only when asked for. */
export interface ModelFile {
  name: string;
  format: ModelFormat;
  readonly vocab: Vocab;
  order: number;
  /** Set for a binary model file. */
  binary?: BinaryModel;
  /** The vocabulary's words by their bytes, when the file had them ready (a binary model). */
  words?: ByteWordIndex;
  /** The probing tables (from a binary: views onto the file, built for nothing). */
  queryIndex(): QueryIndex;
  /** The trie-shaped model (from a binary: rebuilt on the first call). */
  languageModel(): LanguageModel;
}

/** A binary model: the probing tables are views onto its bytes; the trie is rebuilt if asked for. */
export function binaryModelFile(binary: BinaryModel): ModelFile {
  let lm: LanguageModel | undefined;
  return {
    name: binary.file,
    format: 'binary',
    get vocab() {
      return binary.vocab; // made on first use (model/binary/model_file.ts)
    },
    order: binary.meta.order,
    binary,
    words: binary.words,
    queryIndex: () => binary.index,
    languageModel: () => (lm ??= rebuildLanguageModel(binary)),
  };
}

