// The bytes of an ARPA file as the loader reads them: the file, unzipped when its content is gzip
// (load_model.ts decides that by the magic bytes, not by the name).
import zlib from 'node:zlib';
import { InputError } from '../../model/errors.js';
import { readInput, type InputText } from './inputs.js';

export function arpaBytes(file: string, gzip: boolean): InputText {
  const input = readInput(file, { gunzip: false });
  if (!gzip) return input;
  try {
    return { name: input.name, bytes: zlib.gunzipSync(input.bytes) };
  } catch (e) {
    throw new InputError(`not a valid gzip file: ${(e as Error).message}`, input.name);
  }
}
