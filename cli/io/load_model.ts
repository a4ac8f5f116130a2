// Loading an ARPA model named on the command line.
import { readArpa } from '../../model/arpa_read.js';
import { decodeUtf8 } from '../../model/corpus_read.js';
import type { LanguageModel } from '../../model/language_model.js';
import { readInput } from './inputs.js';
import type { Progress } from './progress.js';

export function loadArpa(file: string, progress?: Progress): LanguageModel {
  const { name, bytes } = readInput(file);
  progress?.phase(`loading ${name}`);
  const lm = readArpa(decodeUtf8(bytes, name), name, {
    onProgress: (d, t) => progress?.update(d, t),
    warn: (m) => process.stderr.write(`warning: ${m}\n`),
  });
  progress?.endPhase();
  return lm;
}
