// Command-line inputs: files, directories (their files, recursively, in name order) and `-` for
// standard input, read as bytes. Kept at the edge so model/ never touches the file system.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { decodeUtf8 } from '../../model/corpus_read.js';
import { InputError } from '../../model/errors.js';

/** How a "-" argument reaches the commands (yargs would drop a bare "-"). */
export const STDIN_ARG = '<stdin>';

const isStdin = (arg: string): boolean => arg === '-' || arg === STDIN_ARG;

export interface InputText {
  name: string;
  bytes: Buffer;
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/** Expands INPUT arguments into the files they name, failing on the first that does not exist. */
export function expandInputs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const arg of args) {
    if (isStdin(arg)) {
      out.push('-');
      continue;
    }
    let stat: fs.Stats;
    try {
      stat = fs.statSync(arg);
    } catch {
      throw new InputError('no such file or directory', arg, undefined, 'check the path; use - to read standard input');
    }
    out.push(...(stat.isDirectory() ? listFiles(arg) : [arg]));
  }
  if (out.length === 0) throw new InputError('no input files given', undefined, undefined, 'name at least one file, directory, or - for standard input');
  return out;
}

/** Reads a file (gunzipping *.gz unless told not to) or standard input. */
export function readInput(file: string, options: { gunzip?: boolean } = {}): InputText {
  if (isStdin(file)) return { name: '<stdin>', bytes: fs.readFileSync(0) };
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new InputError(`cannot read: ${(e as Error).message}`, file);
  }
  if (file.endsWith('.gz') && options.gunzip !== false) {
    try {
      bytes = zlib.gunzipSync(bytes);
    } catch (e) {
      throw new InputError(`not a valid gzip file: ${(e as Error).message}`, file);
    }
  }
  return { name: file, bytes };
}

/** The lines of a text input, decoded; the newline that ends the last line opens no empty one. */
export function readLines(file: string): string[] {
  const { name, bytes } = readInput(file);
  const lines = decodeUtf8(bytes, name).split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}
