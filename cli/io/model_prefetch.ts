// Reading a binary model file while the command's modules load (or, for an ARPA file, starting the
// thread that lexes it: arpa_load.ts startArpaLexing). `ppl --model X.dbslm` spends about
// as long loading yargs and its own modules (compiling them on the main thread) as reading the
// file (kernel copies and page faults) and checksumming it; started first, the read runs on
// libuv's thread pool in chunks, and each chunk's CRC-32 is taken on the main thread between
// module loads as the chunk arrives. The command then finds the bytes and their checksum ready
// (load_model.ts), and the container checks that checksum as if it had computed it itself.
// Anything unexpected (no such file, not a binary model, a failed read) leaves nothing prefetched:
// the ordinary path then reads the file and reports the problem.
import fs from 'node:fs';
import zlib from 'node:zlib';
import { CHECKSUM_FROM, isBinaryModel, MAGIC } from '../../model/binary/container.js';

/** A file read whole into one 8-byte aligned buffer, with the CRC-32 of bytes[CHECKSUM_FROM..]. */
export interface PrefetchedModel {
  bytes: Buffer;
  crc: number;
}

const GZIP_MAGIC = [0x1f, 0x8b];

/** Big enough that a chunk's round trip through the event loop is small beside its copy. */
const CHUNK_BYTES = 8 << 20;

const prefetched = new Map<string, Promise<PrefetchedModel | undefined>>();

function readChunks(fd: number, size: number): Promise<PrefetchedModel | undefined> {
  // A buffer of its own (offset 0, never a slice of Node's small-buffer pool), on a
  // SharedArrayBuffer: V8 counts an ArrayBuffer's 68 MB as external memory and answers with a
  // scavenge and a full collection while the modules load (5-20 ms, "external memory pressure" in
  // --trace-gc); a SharedArrayBuffer's memory is not counted so. Nothing shares it.
  const bytes = Buffer.from(new SharedArrayBuffer(size));
  const chunks = Math.ceil(size / CHUNK_BYTES);
  const arrived = new Uint8Array(chunks);
  let crc = 0;
  let checked = 0;
  let failed = false;
  return new Promise((resolve) => {
    const finish = (result: PrefetchedModel | undefined): void => fs.close(fd, () => resolve(result));
    // Every chunk is asked for at once (libuv's pool reads up to four at a time, whatever the main
    // thread is doing); the checksum runs through the chunks in file order as they arrive.
    for (let c = 0; c < chunks; c++) {
      const at = c * CHUNK_BYTES;
      const length = Math.min(CHUNK_BYTES, size - at);
      fs.read(fd, bytes, at, length, at, (err, got) => {
        if (failed) return;
        if (err || got !== length) {
          // (A short read: the file changed under us. The ordinary read will tell.)
          failed = true;
          finish(undefined);
          return;
        }
        arrived[c] = 1;
        for (; checked < chunks && arrived[checked]; checked++) {
          const from = checked * CHUNK_BYTES;
          crc = zlib.crc32(bytes.subarray(Math.max(from, CHECKSUM_FROM), Math.min(size, from + CHUNK_BYTES)), crc);
        }
        if (checked === chunks) finish({ bytes, crc });
      });
    }
  });
}

/** Starts reading `file` if it is a binary model, or lexing it if ARPA text (a look at its first bytes); never throws. */
export function prefetchModel(file: string): void {
  if (prefetched.has(file)) return;
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const head = Buffer.alloc(MAGIC.length);
    const size = fs.fstatSync(fd).size;
    const got = fs.readSync(fd, head, 0, head.length, 0);
    if (got === head.length && isBinaryModel(head) && size > CHECKSUM_FROM) {
      prefetched.set(file, readChunks(fd, size));
      fd = undefined;
    } else if (got >= 2 && !(head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1])) {
      // Plain text, so ARPA: its lexing thread starts now (its module is imported for this only).
      void import('./arpa_load.js').then((arpa) => arpa.startArpaLexing(file)).catch(() => {});
    }
  } catch {
    // The ordinary read reports it.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** The prefetched bytes of `file`, once (the map lets go of them), or undefined. */
export async function takePrefetched(file: string): Promise<PrefetchedModel | undefined> {
  const pending = prefetched.get(file);
  prefetched.delete(file);
  return pending;
}

/**
 * Starts the read of the one model file `ppl --model FILE` names, from the raw arguments, before
 * yargs (which parses them properly later) has loaded. Mixtures, stores and --help read nothing early.
 */
export function prefetchPplModel(argv: readonly string[]): void {
  if (argv.find((a) => !a.startsWith('-')) !== 'ppl' || argv.some((a) => a === '--help' || a === '-h' || a === '--connect' || a.startsWith('--connect='))) return;
  const files: string[] = [];
  argv.forEach((a, i) => {
    if (a === '--model' && i + 1 < argv.length) files.push(argv[i + 1]!);
    else if (a.startsWith('--model=')) files.push(a.slice('--model='.length));
  });
  // ("-" is standard input, which main.ts renames before yargs sees it.)
  if (files.length === 1 && files[0] !== '-') prefetchModel(files[0]!);
}
