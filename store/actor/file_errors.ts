// An actor's own files (DATA/store.db, forkmap.avro, members.json, ...) that cannot be opened or
// written: the error names the file and says what to do. The OS and SQLite only say "disk I/O
// error", "unable to open database file" or "EISDIR: illegal operation on a directory, read".

/** A file of the actor that could not be opened, read or written. `dbslm store start` exits 1 on it. */
export class StoreFileError extends Error {
  constructor(
    readonly file: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'StoreFileError';
  }
}

interface CodedError {
  code?: string;
  message?: string;
}

/** What an errno or SQLite code means for the operator. */
function remedy(code: string, file: string): string {
  if (code.startsWith('SQLITE_IOERR')) code = 'SQLITE_IOERR'; // SQLite's extended codes: SQLITE_IOERR_WRITE, _FSYNC, ...
  switch (code) {
    case 'ENOSPC':
    case 'EFBIG':
    case 'EDQUOT':
    case 'SQLITE_FULL':
    case 'SQLITE_IOERR':
      return 'the disk may be full (or a file size or quota limit reached): free space, then start the actor again';
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
    case 'SQLITE_READONLY':
    case 'SQLITE_PERM':
      return `make ${file} writable by this user (the file system may be read-only), or start with another --data dir`;
    case 'EISDIR':
      return `${file} is a directory where the actor keeps a file: move it away, or start with another --data dir`;
    case 'ENOTDIR':
    case 'EEXIST':
      return `${file} must be a directory: move what is there away, or start with another --data dir`;
    case 'SQLITE_CANTOPEN':
      return `check that ${file} is a file the actor can create or open (not a directory) in a writable --data dir`;
    case 'SQLITE_CORRUPT':
    case 'SQLITE_NOTADB':
      return `${file} is not a readable store database: restore it, or start with another --data dir`;
    default:
      return 'check the --data dir';
  }
}

/** The StoreFileError for `err`, raised while the actor was trying to `action` (e.g. "open") `file`. */
export function storeFileError(file: string, action: string, err: unknown): StoreFileError {
  if (err instanceof StoreFileError) return err;
  const e = err as CodedError;
  const code = e?.code ?? 'UNKNOWN';
  const reason = (e?.message ?? String(err)).replace(/\s+/g, ' ').replace(`${code}: `, ''); // fs messages start with their code
  return new StoreFileError(file, code, `cannot ${action} ${file} (${code}: ${reason}); ${remedy(code, file)}`);
}

/**
 * Run `fn`, turning its error into a StoreFileError about `file`: an OS or SQLite error (one with a
 * code) gets the file and a remedy added; any other already says what is wrong with the file (a
 * corrupt fork map) and keeps its message.
 */
export function withFile<T>(file: string, action: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof StoreFileError) throw err;
    if (typeof (err as CodedError)?.code === 'string') throw storeFileError(file, action, err);
    throw new StoreFileError(file, 'INVALID', (err as Error)?.message ?? String(err));
  }
}

/** A Node fs error names its path (`err.path`): such an error from anywhere in start-up becomes a StoreFileError. */
export function asStartupFileError(err: unknown): unknown {
  const e = err as CodedError & { path?: string; syscall?: string };
  if (err instanceof StoreFileError || typeof e?.path !== 'string' || typeof e.code !== 'string') return err;
  return storeFileError(e.path, e.syscall ?? 'use', err);
}
