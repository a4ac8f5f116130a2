// A private temporary directory for one command (the memory-bounded build's sorted runs), removed
// when the command ends, fails, or the process is interrupted (SIGINT, SIGTERM) or exits: spill
// files can be as large as the corpus, so none may outlive the command that wrote them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../../model/errors.js';

export async function withTempDir<T>(parent: string | undefined, prefix: string, body: (dir: string) => Promise<T> | T): Promise<T> {
  const base = parent ?? os.tmpdir();
  let dir: string;
  try {
    dir = fs.mkdtempSync(path.join(base, prefix));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InputError(`cannot create a temporary directory in ${base}: ${err.code ?? err.message}`, undefined, undefined, 'pass --temp DIR naming a writable directory');
  }
  const remove = () => fs.rmSync(dir, { recursive: true, force: true });
  const onSignal = (signal: NodeJS.Signals) => {
    remove();
    process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', remove);
  try {
    return await body(dir);
  } finally {
    // A signal that came during the body's last synchronous stretch is still pending: let its
    // handler run now, before the listeners go (removing them would drop it unanswered).
    await new Promise<void>((resolve) => setImmediate(resolve));
    remove();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', remove);
  }
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** A memory size as lmplz -S takes it: 300M, 1G, 512K, a plain number of bytes, or 80% of RAM. */
export function parseMemorySize(text: string, option: string): number {
  const s = String(text).trim();
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(s);
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)b?$/i.exec(s);
  const bytes = percent ? (Number(percent[1]) / 100) * os.totalmem() : m ? Number(m[1]) * UNITS[m[2].toLowerCase()] : Number.NaN;
  if (!(bytes >= 1 << 20)) {
    throw new InputError(`${option}: bad size "${text}"`, undefined, undefined, `give at least 1M, e.g. ${option} 300M, ${option} 1G or ${option} 50% (K, M, G, T are powers of 1024)`);
  }
  return Math.floor(bytes);
}
