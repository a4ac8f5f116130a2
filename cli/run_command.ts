// One place that turns a command's failure into what a user should see: a single line naming
// the file, line and remedy for input errors, a non-zero exit, and no stack trace unless asked.
import { InputError } from '../model/errors.js';

export async function runCommand(name: string, body: () => void | Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    const err = e as Error;
    const known = err instanceof InputError;
    process.stderr.write(`dbslm ${name}: error: ${err.message}\n`);
    if (!known && process.env.DBSLM_DEBUG) process.stderr.write(`${err.stack}\n`);
    else if (!known) process.stderr.write('  (set DBSLM_DEBUG=1 for a stack trace)\n');
    process.exitCode = known ? 1 : 70;
  }
}
