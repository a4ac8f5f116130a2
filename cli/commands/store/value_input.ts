// Where `dbslm store set` takes its value from: the argument, a file (--file F) or standard input
// (-), so values too large for a command line (a shell argument stops at 128 KiB) or binary ones
// can be stored. Reading stops past the store's value limit rather than buffering a huge input.
import fs from 'node:fs';
import { STDIN_ARG } from '../../io/inputs.js';
import { MAX_VALUE_BYTES } from '../../../store/protocol/values.js';

const tooLarge = (what: string) => new Error(`${what} holds more than ${MAX_VALUE_BYTES} bytes, the store's value limit`);

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > MAX_VALUE_BYTES) throw tooLarge('standard input');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, bytes);
}

function readFile(file: string): Buffer {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch (err) {
    throw new Error(`cannot read --file ${file}: ${(err as Error).message}`);
  }
  if (size > MAX_VALUE_BYTES) throw tooLarge(`--file ${file}`);
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read --file ${file}: ${(err as Error).message}`);
  }
}

/** The value bytes: `value` as UTF-8, `-` for standard input, or the contents of `file`; exactly one of them. */
export async function valueBytes(value: string | undefined, file: string | undefined): Promise<Buffer> {
  if (value !== undefined && file !== undefined) throw new Error('give the value once: as an argument, as - for standard input, or with --file, not both');
  if (file !== undefined) return readFile(file);
  if (value === undefined) throw new Error('no value: give it as an argument, as - for standard input, or with --file FILE');
  if (value === STDIN_ARG || value === '-') return readStdin();
  return Buffer.from(value, 'utf8');
}
