// Loading an ARPA model named on the command line.
import type { LanguageModel } from '../../model/language_model.js';
import { loadArpaFile } from './arpa_load.js';
import type { Progress } from './progress.js';

export function loadArpa(file: string, progress?: Progress): LanguageModel {
  const lm = loadArpaFile(file, {
    onName: (name) => progress?.phase(`loading ${name}`),
    onProgress: (d, t) => progress?.update(d, t),
    warn: (m) => process.stderr.write(`warning: ${m}\n`),
  });
  progress?.endPhase();
  return lm;
}
