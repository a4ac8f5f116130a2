// Loading the model file a command names, recognised by its content rather than its name: a dbslm
// binary model (its magic bytes), gzip (its magic bytes; unzipped, then recognised again), or else
// ARPA text. Every command that reads a model file comes through here.
import fs from 'node:fs';
import zlib from 'node:zlib';
import { readArpa } from '../../model/arpa_read.js';
import { isBinaryModel } from '../../model/binary/container.js';
import { readBinaryModel } from '../../model/binary/model_file.js';
import { rebuildLanguageModel } from '../../model/binary/rebuild.js';
import { InputError } from '../../model/errors.js';
import type { LanguageModel } from '../../model/language_model.js';
import { buildQueryIndex, type QueryIndex } from '../../model/query_index.js';
import { loadArpaFile, loadArpaTables, type ArpaLoadOptions } from './arpa_load.js';
import { readInput, STDIN_ARG } from './inputs.js';
import type { PrefetchedModel } from './model_prefetch.js';
import { binaryModelFile, type ModelFile } from './loaded_model.js';
import type { Progress } from './progress.js';

export type { ModelFile, ModelFormat } from './loaded_model.js';

const GZIP_MAGIC = [0x1f, 0x8b];

/** The first bytes of a file (empty for standard input and unreadable files: readInput reports those). */
function head(file: string): Buffer {
  if (file === '-' || file === STDIN_ARG) return Buffer.alloc(0);
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const buf = Buffer.alloc(16);
    return buf.subarray(0, fs.readSync(fd, buf, 0, buf.length, 0));
  } catch {
    return Buffer.alloc(0);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** An ARPA model, on two threads when it is a large plain-text file (arpa_load.ts). */
function arpaModel(lm: LanguageModel, name: string): ModelFile {
  let index: QueryIndex | undefined;
  return { name, format: 'arpa', vocab: lm.vocab, order: lm.order, queryIndex: () => (index ??= buildQueryIndex(lm)), languageModel: () => lm };
}

/**
 * The model file `file`, whatever its kind. `scoring`: the caller needs only the probing tables
 * (ppl), which an ARPA file then fills directly, without the trie (built later if asked for).
 * `prefetched`: the binary model's bytes and checksum, read while the modules loaded (model_prefetch.ts).
 */
export function loadModel(file: string, progress?: Progress, opts: { scoring?: boolean; prefetched?: PrefetchedModel } = {}): ModelFile {
  if (opts.prefetched) return binaryModelFile(readBinaryModel(opts.prefetched.bytes, file, opts.prefetched.crc));
  const start = head(file);
  if (start.length >= 2 && !(start[0] === GZIP_MAGIC[0] && start[1] === GZIP_MAGIC[1]) && !isBinaryModel(start)) {
    // Plain text: read (and lexed on a second thread when large) without holding it here.
    let name = file;
    const options: ArpaLoadOptions = {
      onName: (n) => {
        name = n;
        progress?.phase(`loading ${n}`);
      },
      onProgress: (d, t) => progress?.update(d, t),
      warn: (m) => process.stderr.write(`warning: ${m}\n`),
    };
    if (opts.scoring) {
      const tables = loadArpaTables(file, options);
      progress?.endPhase();
      let lm: LanguageModel | undefined;
      return { name, format: 'arpa', vocab: tables.vocab, order: tables.index.order, queryIndex: () => tables.index, languageModel: () => (lm ??= rebuildLanguageModel(tables)) };
    }
    const lm = loadArpaFile(file, options);
    progress?.endPhase();
    return arpaModel(lm, name);
  }
  // readInput unzips by name; content decides here, so the raw bytes are read for a *.gz too.
  let { name, bytes } = readInput(file, { gunzip: false });
  if (bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1]) {
    try {
      bytes = zlib.gunzipSync(bytes);
    } catch (e) {
      throw new InputError(`not a valid gzip file: ${(e as Error).message}`, name);
    }
  }
  if (isBinaryModel(bytes)) return binaryModelFile(readBinaryModel(bytes, name));
  progress?.phase(`loading ${name}`);
  const lm = readArpa(bytes, name, {
    onProgress: (d, t) => progress?.update(d, t),
    warn: (m) => process.stderr.write(`warning: ${m}\n`),
  });
  progress?.endPhase();
  return arpaModel(lm, name);
}

/** The trie-shaped model of a model file of any of the three kinds. */
export function loadLanguageModel(file: string, progress?: Progress): LanguageModel {
  return loadModel(file, progress).languageModel();
}
