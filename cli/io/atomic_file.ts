// Output files appear whole or not at all: written to a temporary name beside the target and
// renamed into place, so a failure (bad input, a full disk, Ctrl-C) never leaves a partial model.
import fs from 'node:fs';
import path from 'node:path';

export function writeFileAtomic(target: string, chunks: Iterable<Uint8Array | string>): number {
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
  let bytes = 0;
  const fd = fs.openSync(tmp, 'w');
  try {
    for (const chunk of chunks) {
      bytes += typeof chunk === 'string' ? fs.writeSync(fd, chunk) : fs.writeSync(fd, chunk);
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
