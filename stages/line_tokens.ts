// How split turns one line of text into tokens, exactly as in-process training does
// (model/corpus_read.ts): `whitespace` is lmplz's rule from readWhitespace, where space, tab, CR
// and NUL separate words and \v and \f do not (unlike tokenizeWhitespace, which is KenLM query's
// wider rule); `regex` is the raw-text tokenizer (model/tokenizer.ts getTokenizer('regex')).
import { getTokenizer, type TokenizerName } from '../model/tokenizer.js';
import { Vocab } from '../model/vocab.js';

const LMPLZ_SEPARATORS = /[ \t\r\0]+/;

/** lmplz's words of a line (readWhitespace's separators); never returns empty strings. */
export function lmplzWords(line: string): string[] {
  const parts = line.split(LMPLZ_SEPARATORS);
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length > 0 && parts[0] === '') parts.shift();
  return parts;
}

export function lineTokenizer(name: TokenizerName): (line: string) => string[] {
  return name === 'whitespace' ? lmplzWords : getTokenizer(name);
}

/** The reason a token list cannot be trained on (a reserved token in the text), or null. */
export function reservedTokenProblem(tokens: readonly string[]): string | null {
  const reserved = tokens.find((t) => Vocab.isSpecial(t));
  if (reserved === undefined) return null;
  return `the token ${reserved} is reserved (it marks sentence starts, ends and unknown words); remove it from the training text or replace it, as KenLM also refuses it`;
}
