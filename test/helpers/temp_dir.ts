// Temporary directories for tests, all removed when the test process exits: tests write SQLite
// files, WALs of up to 128 MiB and whole models, and a developer's /tmp must not fill up with them
// run after run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const made: string[] = [];

/** A fresh directory under the system's temporary directory, named `prefix` and a random suffix. */
export function tempDir(prefix = 'dbslm-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  if (made.push(dir) === 1) process.once('exit', () => removeAll());
  return dir;
}

/** tempDir holding `files` (name -> text or bytes; names may have directories). */
export function tempDirWith(prefix: string, files: Record<string, string | Buffer>): string {
  const dir = tempDir(prefix);
  for (const [name, data] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), data);
  }
  return dir;
}

function removeAll(): void {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
}
