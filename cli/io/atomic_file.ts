// Output files appear whole or not at all: written to a temporary name beside the target and
// renamed into place, so a failure (bad input, a full disk, Ctrl-C) never leaves a partial model.
import fs from 'node:fs';
import path from 'node:path';

/**
 * Written data is handed to the disk in the background every this many bytes (an fdatasync on
 * libuv's thread pool, not waited for), so that the fsync before the rename, which makes the file
 * durable before it takes the target's name, finds little left to write: it held a 70 MB ARPA
 * build ~40 ms at its end, more while other work wrote to the same disk.
 */
const FLUSH_BYTES = 8 << 20;

export function writeFileAtomic(target: string, chunks: Iterable<Uint8Array | string>): number {
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
  let bytes = 0;
  let flushed = 0;
  const fd = fs.openSync(tmp, 'w');
  try {
    for (const chunk of chunks) {
      bytes += typeof chunk === 'string' ? fs.writeSync(fd, chunk) : fs.writeSync(fd, chunk);
      if (bytes - flushed >= FLUSH_BYTES) {
        flushed = bytes;
        // Errors are the final fsync's to report (it flushes the same data, or fails the same way).
        fs.fdatasync(fd, () => {});
      }
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, target);
    return bytes;
  } catch (e) {
    try {
      fs.closeSync(fd);
    } catch {
      /* already closed */
    }
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
