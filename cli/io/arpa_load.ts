// Loading an ARPA file on two threads: a worker reads and lexes it (arpa_lex_worker.ts) while this
// thread puts the records into the model (model/arpa_read.ts ArpaModelBuilder), so the two halves
// of the work overlap. Synchronous, as reading on one thread is: this thread takes the worker's
// messages with receiveMessageOnPort and sleeps on a shared counter between them, so callers need
// no event loop turn. Small inputs and standard input are read on this thread.
import fs from 'node:fs';
import os from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { ArpaModelBuilder, readArpa, type ArpaReadOptions } from '../../model/arpa_read.js';
import { InputError } from '../../model/errors.js';
import type { LanguageModel } from '../../model/language_model.js';
import type { ArpaLexJob, ArpaLexMessage } from './arpa_lex_worker.js';
import { readInput, STDIN_ARG } from './inputs.js';

/** Below this size a worker's start-up (~40 ms) costs more than the overlap saves. */
const TWO_THREADS_MIN_BYTES = 4 << 20;
/** Give up when the worker posts nothing for this long (it died without a word). */
const SILENCE_MS = 120_000;

function worthTwoThreads(file: string): boolean {
  if (file === '-' || file === STDIN_ARG || os.availableParallelism() < 2) return false;
  try {
    return fs.statSync(file).size >= TWO_THREADS_MIN_BYTES;
  } catch {
    return false; // readInput reports the missing file
  }
}

/** Reads the ARPA model in `file`, plain text (load_model.ts unzips gzip; - for standard input). */
export function loadArpaFile(file: string, options: ArpaReadOptions & { onName?: (name: string) => void } = {}): LanguageModel {
  if (!worthTwoThreads(file)) {
    const { name, bytes } = readInput(file, { gunzip: false });
    options.onName?.(name);
    return readArpa(bytes, name, options);
  }
  const posted = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const job: ArpaLexJob = { file, port: port2, posted };
  const worker = new Worker(new URL('./arpa_lex_worker.js', import.meta.url), { workerData: job, transferList: [port2] });
  worker.unref();
  const receive = (): ArpaLexMessage => {
    for (let waited = 0; waited < SILENCE_MS; ) {
      const seen = Atomics.load(posted, 0);
      const got = receiveMessageOnPort(port1);
      if (got) return got.message as ArpaLexMessage;
      const start = performance.now();
      Atomics.wait(posted, 0, seen, 1000);
      waited += performance.now() - start;
    }
    throw new Error(`the thread reading ${file} posted nothing for ${SILENCE_MS / 1000} s`);
  };
  try {
    let builder: ArpaModelBuilder | null = null;
    for (;;) {
      const message = receive();
      if (message.kind === 'error') throw message.input ? new InputError(message.message) : new Error(message.message);
      if (message.kind === 'header') {
        options.onName?.(message.name);
        builder = new ArpaModelBuilder(message.name, message.order, message.declared, options);
      } else if (message.kind === 'chunk') builder!.add(message.chunk);
      else return builder!.finish();
    }
  } finally {
    port1.close();
    void worker.terminate();
  }
}
