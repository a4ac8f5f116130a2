// Errors about a user's input. They carry where (file and line) and what to do, so the CLI can
// print one actionable line instead of a stack trace.
export class InputError extends Error {
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
    readonly hint?: string,
  ) {
    const where = file === undefined ? '' : line === undefined ? `${file}: ` : `${file}:${line}: `;
    super(`${where}${message}${hint ? `\n  hint: ${hint}` : ''}`);
    this.name = 'InputError';
  }
}

/** 1-based line number of byte or char offset `at` in `text`. */
export function lineOf(text: { length: number; [i: number]: number } | string, at: number): number {
  let line = 1;
  if (typeof text === 'string') {
    for (let i = text.indexOf('\n'); i >= 0 && i < at; i = text.indexOf('\n', i + 1)) line++;
  } else {
    for (let i = 0; i < at && i < text.length; i++) if (text[i] === 10) line++;
  }
  return line;
}
