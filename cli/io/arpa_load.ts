// Loading an ARPA file on two threads: a worker reads and lexes it (arpa_lex_worker.ts) while this
// thread puts the records into the model (model/arpa_read.ts ArpaModelBuilder) or, for scoring
// alone, straight into the probing tables (model/arpa_query_index.ts), so the two halves of the
// work overlap. Synchronous, as reading on one thread is: this thread takes the worker's
// messages with receiveMessageOnPort and sleeps on a shared counter between them, so callers need
// no event loop turn. Small inputs and standard input are read on this thread.
import fs from 'node:fs';
import os from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { ArpaLexer, type ArpaChunk, type ArpaHeader } from '../../model/arpa_lex.js';
import { ArpaQueryIndexBuilder, TablesFull, type ScoringTables } from '../../model/arpa_query_index.js';
import { ArpaModelBuilder, type ArpaReadOptions } from '../../model/arpa_read.js';
import { placeQueryIndex } from '../../model/query_index.js';
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

/** What takes the records: a trie (arpa_read.ts) or the scoring tables (arpa_query_index.ts). */
interface RecordSink<T> {
  add(chunk: ArpaChunk): void;
  finish(): T;
}

type SinkFactory<T> = (name: string, order: number, declared: number[]) => RecordSink<T>;

/** Reads the ARPA model in `file`, plain text (load_model.ts unzips gzip; - for standard input). */
export function loadArpaFile(file: string, options: ArpaLoadOptions = {}): LanguageModel {
  return lexArpaFile(file, options, (name, order, declared) => new ArpaModelBuilder(name, order, declared, options));
}

/**
 * The scoring tables of the ARPA model in `file` (what ppl needs), built without the trie; through
 * the trie when the file uses far more prefixes than it lists (TablesFull).
 */
export function loadArpaTables(file: string, options: ArpaLoadOptions = {}): ScoringTables {
  try {
    return lexArpaFile(file, options, (name, order, declared) => {
      const builder = new ArpaQueryIndexBuilder(name, order, declared);
      return { add: (chunk) => builder.add(chunk), finish: () => builder.finish(options.warn) };
    });
  } catch (err) {
    if (!(err instanceof TablesFull)) throw err;
    const lm = loadArpaFile(file, options);
    const placed = placeQueryIndex(lm);
    const nodeSlots = lm.trie.countsByOrder(lm.order).map((count) => new Int32Array(count));
    const filled = new Array<number>(lm.order + 1).fill(0);
    for (let n = 1; n < lm.trie.size; n++) {
      const k = lm.trie.order[n]!;
      if (k >= 2) nodeSlots[k]![filled[k]!++] = placed.slotOf[n]!;
    }
    return { vocab: lm.vocab, index: placed.index, nodeSlots };
  }
}

export interface ArpaLoadOptions extends ArpaReadOptions {
  onName?: (name: string) => void;
}

/** A lexing thread and the channel it posts on. */
interface LexThread {
  worker: Worker;
  port: MessagePort;
  posted: Int32Array;
}

function startLexThread(file: string): LexThread {
  const posted = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const job: ArpaLexJob = { file, port: port2, posted };
  const worker = new Worker(lexWorkerCode(), { workerData: job, transferList: [port2] });
  worker.unref();
  return { worker, port: port1, posted };
}

/**
 * The lexing thread's code: one CommonJS file when `npm run build` bundled it (package.json), else
 * its ES module. A worker thread loading the dozen ES modules started ~25 ms later, time the
 * loading thread then waited for its first records (ppl of the order-5 KJV ARPA, 9 rounds
 * alternating: median 1.03 s with the modules, 0.91 s with the bundle).
 */
function lexWorkerCode(): URL {
  const bundled = new URL('./arpa_lex_worker.cjs', import.meta.url);
  return fs.existsSync(bundled) ? bundled : new URL('./arpa_lex_worker.js', import.meta.url);
}

/** Threads started early (startArpaLexing), by file; null once the file's load has begun. */
const started = new Map<string, LexThread | null>();

/**
 * Starts lexing `file` on its thread now, for a load that will ask for it later (cli/io/
 * model_prefetch.ts starts it while the command's modules load: the thread's own start-up and
 * the file's read then overlap them). Nothing when the file would be read on this thread, or
 * its load has begun.
 */
export function startArpaLexing(file: string): void {
  if (!started.has(file) && worthTwoThreads(file)) started.set(file, startLexThread(file));
}

function lexArpaFile<T>(file: string, options: ArpaLoadOptions, sink: SinkFactory<T>): T {
  const early = started.get(file);
  started.set(file, null);
  if (!early && !worthTwoThreads(file)) {
    const { name, bytes } = readInput(file, { gunzip: false });
    options.onName?.(name);
    const lexer = new ArpaLexer(bytes, name);
    const target = sink(name, lexer.header.order, lexer.header.declared);
    // Each chunk is read before the next is lexed, into the same memory.
    for (let chunk = lexer.nextChunk(); chunk; chunk = lexer.nextChunk(undefined, chunk.buffer)) target.add(chunk);
    return target.finish();
  }
  const { worker, port: port1, posted } = early ?? startLexThread(file);
  // The header, read here from the file's first lines: the tables are made and cleared (~0.15 s
  // for the order-5 KJV model) while the lexing thread is still starting, which took it 0.1-0.2 s
  // before its own header arrived. The thread's header is then checked against it.
  const head = headerOfHead(file);
  let target: RecordSink<T> | null = null;
  if (head) {
    options.onName?.(file);
    target = sink(file, head.order, head.declared);
  }
  let received = 0;
  const receive = (): ArpaLexMessage => {
    for (let waited = 0; waited < SILENCE_MS; ) {
      const got = receiveMessageOnPort(port1);
      if (got) {
        received++;
        return got.message as ArpaLexMessage;
      }
      const count = Atomics.load(posted, 0);
      const start = performance.now();
      // Counted but not yet receivable (the port delivers a moment after postMessage returns): a
      // short nap; else sleep until the worker counts its next message.
      Atomics.wait(posted, 0, count, count > received ? 0.2 : 1000);
      waited += performance.now() - start;
    }
    throw new Error(`the thread reading ${file} posted nothing for ${SILENCE_MS / 1000} s`);
  };
  try {
    for (;;) {
      const message = receive();
      if (message.kind === 'error') throw message.input ? new InputError(message.message) : new Error(message.message);
      if (message.kind === 'header') {
        if (head) {
          if (message.order !== head.order || message.declared.join() !== head.declared.join()) throw new InputError('the file changed while it was read', file);
        } else {
          options.onName?.(message.name);
          target = sink(message.name, message.order, message.declared);
        }
      } else if (message.kind === 'chunk') {
        target!.add(message.chunk);
        // Read: its memory goes back to be lexed into again (the views here are detached by it).
        port1.postMessage(message.chunk.buffer, [message.chunk.buffer]);
      }
      else return target!.finish();
    }
  } finally {
    port1.close();
    void worker.terminate();
  }
}

/** Enough for the header of any model with a sane number of orders. */
const HEAD_BYTES = 64 << 10;

/**
 * The header of the ARPA file, lexed from its first whole lines by the lexer itself, or undefined
 * when they do not hold it or anything fails (the lexing thread then posts the header, or the
 * error with its line).
 */
function headerOfHead(file: string): ArpaHeader | undefined {
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
