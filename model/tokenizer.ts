// The line tokenizers selectable with --tokenizer, by name.

import { InputError } from './errors.js';
import { tokenizeRegex } from './tokenize_regex.js';

export type TokenizerName = 'whitespace' | 'regex';

export const TOKENIZER_NAMES: readonly TokenizerName[] = ['whitespace', 'regex'];

export function isTokenizerName(s: string): s is TokenizerName {
  return (TOKENIZER_NAMES as readonly string[]).includes(s);
}

/** Validates a --tokenizer value; the error lists the valid names so the user can fix the flag. */
export function parseTokenizerName(s: string): TokenizerName {
  if (isTokenizerName(s)) return s;
  throw new InputError(
    `unknown tokenizer "${s}": valid tokenizers are ${TOKENIZER_NAMES.join(', ')} ` +
      '(whitespace for pre-tokenized text such as the KenLM reference corpora, regex for raw text)',
  );
}

export function getTokenizer(name: TokenizerName): (line: string) => string[] {
  switch (name) {
    case 'whitespace':
      return tokenizeWhitespace;
    case 'regex':
      return tokenizeRegex;
  }
}

// KenLM's view of pre-tokenized text: lmplz splits on space, tab, CR and NUL, and query also on
// \v and \f (../shared/reference/kenlm/README.md). We take the union so that scoring sees what
// KenLM's query sees; \v and \f do not occur in the reference corpora, so training agrees too.
// \n is included so a multi-line string never yields a token with a newline inside.
const WHITESPACE_RUN_RE = /[ \t\n\r\0\v\f]+/;

/** Split pre-tokenized text on runs of ASCII whitespace; never returns empty strings. */
export function tokenizeWhitespace(line: string): string[] {
  const parts = line.split(WHITESPACE_RUN_RE);
  // split() leaves an empty string at each end that starts or ends with whitespace, and one for
  // an empty or whitespace-only line; only those positions can be empty.
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length > 0 && parts[0] === '') parts.shift();
  return parts;
}
