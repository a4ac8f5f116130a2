// An input read in pieces that end at line ends, for the memory-bounded build (`build --memory`):
// the corpus is never held whole, so its size does not count against the budget. Files, gzipped
// files (*.gz, gunzipped as they stream) and standard input alike. Every piece but the last ends
// with a newline, so a piece is whole lines: its UTF-8 is checked and tokenized alone, and no
// record is cut in two.
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { InputError } from '../../model/errors.js';

/** Bytes read per piece: the piece, its decoded text and its ids are what reading holds. */
export const READ_CHUNK_BYTES = 8 << 20;

export interface InputChunk {
  name: string;
  bytes: Buffer;
  /** Line number, in the input, of the piece's first line (error messages name input lines). */
  firstLine: number;
  /** Bytes of the input (before gunzipping) read so far, for progress. */
  readBytes: number;
}

const isStdin = (file: string): boolean => file === '-' || file === '<stdin>';

function newlines(bytes: Buffer): number {
  let n = 0;
  for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) n++;
  return n;
}

/** The pieces of one input, in order. A missing or unreadable file or a bad gzip stream is an InputError naming it. */
export async function* inputChunks(file: string, chunkBytes = READ_CHUNK_BYTES): AsyncGenerator<InputChunk> {
  const name = isStdin(file) ? '<stdin>' : file;
  const raw: Readable = isStdin(file) ? process.stdin : fs.createReadStream(file, { highWaterMark: Math.min(chunkBytes, 1 << 20) });
  // Bytes read so far, before gunzipping: a gzipped file's stream counts them itself.
  let readBytes = 0;
  const gunzip = !isStdin(file) && file.endsWith('.gz');
  const source: Readable = gunzip ? raw.pipe(zlib.createGunzip()) : raw;
  // A read error on the file reaches the gunzip stream's iterator only if forwarded.
  if (gunzip) raw.on('error', (e) => source.destroy(e));
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let line = 1;
  const take = (upTo: number): InputChunk => {
    const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    const bytes = all.subarray(0, upTo);
    const rest = all.subarray(upTo);
    pending = rest.length > 0 ? [rest] : [];
    pendingBytes = rest.length;
    const chunk = { name, bytes, firstLine: line, readBytes };
    line += newlines(bytes);
    return chunk;
  };
  try {
    for await (const data of source as AsyncIterable<Buffer>) {
      pending.push(data);
      pendingBytes += data.length;
      readBytes = gunzip ? (raw as fs.ReadStream).bytesRead : readBytes + data.length;
      if (pendingBytes < chunkBytes) continue;
      const last = data.lastIndexOf(10);
      // A piece ends at the last newline seen; a line longer than a piece waits for its end.
      if (last >= 0) yield take(pendingBytes - data.length + last + 1);
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new InputError('no such file', name, undefined, 'check the path; use - to read standard input');
    if (gunzip && err.code?.startsWith('Z_')) throw new InputError(`not a valid gzip file: ${err.message}`, name);
    throw new InputError(`cannot read: ${err.message}`, name);
  }
  if (pendingBytes > 0) yield take(pendingBytes);
}
