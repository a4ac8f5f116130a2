// The binary model file's container: a fixed header, a JSON directory, and named sections of raw
// little-endian typed-array bytes, each 8-byte aligned so that loading makes typed-array views onto
// the one Buffer the file was read into (no parsing, no copying). A CRC-32 over everything after
// the checksum field catches a flipped or cut byte before any of it is used; the version is
// checked first so that a file of another version is named as such, not as corrupt.
//
// Header (32 bytes): magic (8), format version u32, CRC-32 u32 of bytes 16.., file length as two
// u32 (low, high), directory length u32 (padded with spaces to a multiple of 8), reserved u32.
// Then the directory (JSON) and the sections in directory order.
// Version 2: probing tables of any size, probed from homeSlot (query_index.ts); version 1's were
// powers of two, probed by masking, and its files are refused (rebuilt by `convert`).
import os from 'node:os';
import zlib from 'node:zlib';
import { InputError } from '../errors.js';

/** "\x89DBSLM\r\n": not text (so never mistaken for ARPA), and a CR/LF rewrite breaks it visibly. */
export const MAGIC = Buffer.from([0x89, 0x44, 0x42, 0x53, 0x4c, 0x4d, 0x0d, 0x0a]);
export const FORMAT_VERSION = 2;
const HEADER_BYTES = 32;
/** The checksum covers the file from here on (everything after the checksum field itself). */
export const CHECKSUM_FROM = 16;
const HINT = 'rebuild it with `dbslm build --binary` or `dbslm convert MODEL.arpa OUT.dbslm`';

export interface SectionEntry {
  name: string;
  /** From the start of the data, which follows the directory at the next multiple of 8. */
  offset: number;
  bytes: number;
}

export interface Directory<Meta> {
  meta: Meta;
  sections: SectionEntry[];
}

export type SectionData = Uint8Array | Int32Array | Float32Array | Float64Array | Uint16Array;

export function isBinaryModel(bytes: Uint8Array): boolean {
  return bytes.length >= MAGIC.length && MAGIC.equals(bytes.subarray(0, MAGIC.length));
}

const pad8 = (n: number): number => (n + 7) & ~7;

function littleEndianOnly(): void {
  if (os.endianness() !== 'LE') throw new InputError('binary model files are little-endian; this machine is big-endian', undefined, undefined, 'use the ARPA model here');
}

/** The file as chunks, header first: `meta` goes into the directory beside the section table. */
export function encodeContainer<Meta>(meta: Meta, sections: ReadonlyMap<string, SectionData>): Uint8Array[] {
  littleEndianOnly();
  const entries: SectionEntry[] = [];
  let at = 0;
  for (const [name, data] of sections) {
    entries.push({ name, offset: at, bytes: data.byteLength });
    at = pad8(at + data.byteLength);
  }
  const dirText = Buffer.from(JSON.stringify({ meta, sections: entries } satisfies Directory<Meta>));
  const base = pad8(HEADER_BYTES + dirText.length);
  const dir = Buffer.alloc(base - HEADER_BYTES, 0x20);
  dirText.copy(dir);
  const chunks: Uint8Array[] = [dir];
  let length = base;
  for (const data of sections.values()) {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    chunks.push(bytes);
    length += bytes.length;
    const gap = pad8(length) - length;
    if (gap > 0) chunks.push(new Uint8Array(gap));
    length += gap;
  }
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt32LE(FORMAT_VERSION, 8);
  header.writeUInt32LE(length % 2 ** 32, 16);
  header.writeUInt32LE(Math.floor(length / 2 ** 32), 20);
  header.writeUInt32LE(dir.length, 24);
  let crc = zlib.crc32(header.subarray(CHECKSUM_FROM));
  for (const c of chunks) crc = zlib.crc32(c, crc);
  header.writeUInt32LE(crc, 12);
  return [header, ...chunks];
}

export interface OpenedContainer<Meta> {
  meta: Meta;
  /** The bytes of each section (views onto the file's buffer). */
  sections: Map<string, Uint8Array>;
}

/**
 * Checks and opens a file read whole into `bytes`; anything wrong is an InputError naming `file`.
 * `crc`: the CRC-32 of bytes[CHECKSUM_FROM..] when the reader took it as the bytes arrived
 * (cli/io/model_prefetch.ts); it is checked against the header as a computed one would be.
 */
export function openContainer<Meta>(bytes: Uint8Array, file: string, crc?: number): OpenedContainer<Meta> {
  littleEndianOnly();
  const fail = (what: string): never => {
    throw new InputError(what, file, undefined, HINT);
  };
  if (!isBinaryModel(bytes)) fail('not a dbslm binary model (wrong magic bytes)');
  if (bytes.length < HEADER_BYTES) fail(`truncated binary model: ${bytes.length} bytes, shorter than its 32-byte header`);
  // Typed-array views need 8-byte alignment; a Buffer from Node's small-file pool may lack it.
  if (bytes.byteOffset % 8 !== 0) bytes = Uint8Array.from(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== FORMAT_VERSION) fail(`binary model format version ${version}; this dbslm reads version ${FORMAT_VERSION}`);
  const length = view.getUint32(16, true) + view.getUint32(20, true) * 2 ** 32;
  if (bytes.length < length) fail(`truncated binary model: ${bytes.length} bytes of the ${length} its header declares`);
  if (bytes.length > length) fail(`binary model has ${bytes.length - length} bytes after the ${length} its header declares`);
  if ((crc ?? zlib.crc32(bytes.subarray(CHECKSUM_FROM))) !== view.getUint32(12, true)) fail('corrupt binary model: checksum mismatch (CRC-32 of the contents differs from the header)');
  // The checksum matched, so what follows was written by encodeContainer; the checks below guard
  // against a writer bug, not against damage.
  const dirBytes = view.getUint32(24, true);
  let dir: Directory<Meta>;
  try {
    dir = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + HEADER_BYTES, dirBytes).toString('utf8')) as Directory<Meta>;
  } catch {
    return fail('corrupt binary model: unreadable directory');
  }
  const base = HEADER_BYTES + dirBytes;
  const sections = new Map<string, Uint8Array>();
  for (const s of dir.sections) {
    if (base % 8 !== 0 || s.offset % 8 !== 0 || base + s.offset + s.bytes > length) fail(`corrupt binary model: section ${s.name} lies outside the file`);
    sections.set(s.name, new Uint8Array(bytes.buffer, bytes.byteOffset + base + s.offset, s.bytes));
  }
  return { meta: dir.meta, sections };
}
