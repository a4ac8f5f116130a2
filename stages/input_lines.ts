// The lines of an input as bytes, with their byte offsets, read as a stream: a 1 GB file is never
// held whole. Lines end at \n (the \n is not part of the line; a \r before it is, and the
// tokenizers treat it as a separator, as lmplz does). *.gz inputs are gunzipped on the fly and
// offsets count bytes of the uncompressed stream, so they are the same as for the unzipped file.
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { InputError } from '../model/errors.js';

export interface RawLine {
  /** The line's bytes, without its \n. */
  bytes: Buffer;
  /** Byte offset of the line's first byte in the (uncompressed) input. */
  offset: number;
  /** 1-based line number. */
  line: number;
  /** False only for a last line without a final newline. */
  terminated: boolean;
}

const CHUNK_BYTES = 1 << 16;

function open(file: string): { source: Readable; bytes: Readable } {
  const source = file === '-' ? fs.createReadStream('', { fd: 0, autoClose: false, highWaterMark: CHUNK_BYTES }) : fs.createReadStream(file, { highWaterMark: CHUNK_BYTES });
  if (!file.endsWith('.gz')) return { source, bytes: source };
  const gunzip = zlib.createGunzip({ chunkSize: CHUNK_BYTES });
  source.on('error', (e) => gunzip.destroy(e));
  return { source, bytes: source.pipe(gunzip) };
}

function readError(e: unknown, shownAs: string): InputError {
  const err = e as NodeJS.ErrnoException;
  if (typeof err.code === 'string' && err.code.startsWith('Z_')) return new InputError(`not a valid gzip file: ${err.message}`, shownAs, undefined, 'check the file, or drop the .gz suffix if it is not compressed');
  const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'it is a directory' : err.message;
  return new InputError(`cannot read: ${why}`, shownAs, undefined, 'check the path and its permissions');
}

/**
 * Yields the lines of `file` chunk by chunk (one array per chunk read, so the per-line work stays
 * synchronous); the stream is read only as fast as the caller pulls. Read errors name `shownAs`.
 */
export async function* inputLines(file: string, shownAs: string): AsyncGenerator<RawLine[]> {
  const { source, bytes } = open(file);
  // The start of a line that continues in a later chunk: pieces joined once its end is found.
  let pending: Buffer[] = [];
  let offset = 0; // of the next line's first byte
  let line = 1;
  try {
    for await (const chunk of bytes as AsyncIterable<Buffer>) {
      const out: RawLine[] = [];
      let start = 0;
      for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
        let lineBytes = chunk.subarray(start, nl);
        if (pending.length > 0) {
          pending.push(lineBytes);
          lineBytes = Buffer.concat(pending);
          pending = [];
        }
        out.push({ bytes: lineBytes, offset, line: line++, terminated: true });
        offset += lineBytes.length + 1;
        start = nl + 1;
      }
      if (start < chunk.length) pending.push(chunk.subarray(start));
      if (out.length > 0) yield out;
    }
  } catch (e) {
    throw readError(e, shownAs);
  } finally {
    source.destroy();
    bytes.destroy();
  }
  if (pending.length > 0) yield [{ bytes: Buffer.concat(pending), offset, line, terminated: false }];
}
