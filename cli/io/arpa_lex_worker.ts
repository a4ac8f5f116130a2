// Worker thread half of loading a large ARPA file (arpa_load.ts): reads the file (plain text),
// lexes it (model/arpa_lex.ts) and posts the header, then each chunk of records, on the port
// it was given, bumping the shared counter after each message so the loading thread, which waits
// on the counter rather than on its event loop, wakes up. The header is posted from the file's
// first bytes, before the whole file is read: the loading thread sizes and clears its tables
// (a third of a second for the order-5 KJV model) while this thread reads the rest.
import fs from 'node:fs';
import { workerData, type MessagePort } from 'node:worker_threads';
import { ArpaLexer, type ArpaHeader } from '../../model/arpa_lex.js';
import { InputError } from '../../model/errors.js';
import { readInput } from './inputs.js';

export interface ArpaLexJob {
  file: string;
  port: MessagePort;
  /** Messages posted so far (index 0). */
  posted: Int32Array;
}

/** What the worker posts: the header first, chunks, then done; or an error at any point. */
export type ArpaLexMessage =
  | { kind: 'header'; name: string; order: number; declared: number[] }
  | { kind: 'chunk'; chunk: import('../../model/arpa_lex.js').ArpaChunk }
  | { kind: 'done' }
  | { kind: 'error'; message: string; input: boolean };

const { file, port, posted } = workerData as ArpaLexJob;

function post(message: ArpaLexMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
  Atomics.add(posted, 0, 1);
  Atomics.notify(posted, 0);
}

/** Enough for the header of any model with a sane number of orders. */
const HEAD_BYTES = 64 << 10;

/**
 * The header, lexed from the file's first whole lines, or undefined when they do not hold it
 * (the whole file's lexer then posts it, or the error). Lexed by the same code from the same
 * bytes, it is the header the whole file's lexer reads.
 */
function headerFromHead(): ArpaHeader | undefined {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const head = Buffer.alloc(HEAD_BYTES);
      const lastNewline = head.subarray(0, fs.readSync(fd, head, 0, HEAD_BYTES, 0)).lastIndexOf(10);
      return lastNewline < 0 ? undefined : new ArpaLexer(head.subarray(0, lastNewline + 1), file).header;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

try {
  const early = headerFromHead();
  if (early) post({ kind: 'header', name: file, order: early.order, declared: early.declared });
  const { name, bytes } = readInput(file, { gunzip: false });
  const lexer = new ArpaLexer(bytes, name);
  if (!early) post({ kind: 'header', name, order: lexer.header.order, declared: lexer.header.declared });
  for (let chunk = lexer.nextChunk(); chunk; chunk = lexer.nextChunk()) {
    post({ kind: 'chunk', chunk }, [chunk.ids.buffer, chunk.logProb.buffer, chunk.backoff.buffer, chunk.lines.buffer, chunk.keys.buffer] as ArrayBuffer[]);
  }
  post({ kind: 'done' });
} catch (err) {
  post({ kind: 'error', message: (err as Error).message, input: err instanceof InputError });
}
