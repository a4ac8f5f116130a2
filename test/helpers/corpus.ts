// Building models in tests straight from text, through the same functions the CLI uses.
import fs from 'node:fs';
import { buildModel, type BuiltModel } from '../../model/build.js';
import { decodeUtf8, IdStream, readWhitespace } from '../../model/corpus_read.js';
import { Vocab } from '../../model/vocab.js';

export function buildFromText(text: string, order: number, discountFallback = false): BuiltModel {
  const vocab = new Vocab();
  const ids = new IdStream();
  readWhitespace(text, 'fixture', vocab, ids);
  return buildModel(ids.view, vocab, { order, discountFallback });
}

export function buildFromFile(file: string, order: number, discountFallback = false): BuiltModel {
  const vocab = new Vocab();
  const ids = new IdStream();
  readWhitespace(decodeUtf8(fs.readFileSync(file), file), file, vocab, ids);
  return buildModel(ids.view, vocab, { order, discountFallback });
}
