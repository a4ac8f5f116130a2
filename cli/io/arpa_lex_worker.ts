// Worker thread half of loading a large ARPA file (arpa_load.ts): reads the file (plain text) a
// window at a time (model/text_window.ts), lexes it (model/arpa_lex.ts) and posts the header,
// then each chunk of records, on the port it was given, bumping the shared counter after each
// message so the loading thread, which waits on the counter rather than on its event loop, wakes
// up. The header comes from the first window, so the loading thread sizes and clears its tables
// (a third of a second for the order-5 KJV model) while this thread reads the rest.
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { ArpaLexer } from '../../model/arpa_lex.js';
import { InputError } from '../../model/errors.js';
import { TextWindow } from '../../model/text_window.js';

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

let window: TextWindow | undefined;
try {
  // The header is lexed from the file's first window, so it is posted before the rest is read.
  window = TextWindow.open(file);
  const lexer = new ArpaLexer(window, file);
  post({ kind: 'header', name: file, order: lexer.header.order, declared: lexer.header.declared });
  // Chunks' memory comes back from the loading thread once read (arpa_load.ts) and is lexed into again.
  const spare: ArrayBuffer[] = [];
  for (;;) {
    for (let back = receiveMessageOnPort(port); back; back = receiveMessageOnPort(port)) spare.push(back.message as ArrayBuffer);
    const chunk = lexer.nextChunk(undefined, spare.pop());
    if (!chunk) break;
    post({ kind: 'chunk', chunk }, [chunk.buffer]);
  }
  post({ kind: 'done' });
} catch (err) {
  post({ kind: 'error', message: (err as Error).message, input: err instanceof InputError });
} finally {
  window?.close(); // (closed already at the end of the file; not when lexing stopped before it)
}
