// Undo tokenizeRegex for display (sampled sentences, demo output). The tokenizer drops the
// original spacing, so this rebuilds the spacing ordinary prose uses: a space between tokens
// except where punctuation conventionally sticks to a neighbour. For text written that way,
// detokenize(tokenizeRegex(s)) === s; text spaced otherwise (`word , word`, `word—word`) comes
// back in the conventional spacing.

import { isMarkerToken } from './tokenize_regex.js';

// Attach to the token before them: `word,` `end.` `(aside)` `50%` `“quote”`.
const CLOSERS = new Set([
  ',', '.', ';', ':', '!', '?', ')', ']', '}', '%', '”', '’', '»', '…', '‰',
]);

// Attach to the token after them: `(aside` `“quote` `¿Qué` `$5`.
const OPENERS = new Set(['(', '[', '{', '“', '‘', '«', '¿', '¡']);
const CURRENCY_RE = /^\p{Sc}$/u;

// Straight quotes have no direction of their own: the first in a line opens, the next closes.
const STRAIGHT_QUOTES = new Set(['"', "'"]);

// Plain-text and em dashes are written without spaces (`sin--;`, `word—word`).
const DASHES = new Set(['--', '---', '—']);

const NUMBER_START_RE = /^\p{Nd}/u;
const ALNUM_START_RE = /^[\p{L}\p{Nd}]/u;
const ALNUM_END_RE = /[\p{L}\p{M}\p{Nd}]$/u;

/** Join tokens from tokenizeRegex into display text. Markers are always set off by spaces. */
export function detokenize(tokens: string[]): string {
  let out = '';
  // Whether a straight quote of each kind is currently open, so the next one closes it.
  const open: Record<string, boolean> = { '"': false, "'": false };
  let attachNext = true; // no space before the next token (start of text, after an opener)

  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i];
    const prev = i > 0 ? tokens[i - 1] : '';
    let tight: boolean;
    let attachAfter = false;

    if (isMarkerToken(tok) || (prev !== '' && isMarkerToken(prev))) {
      tight = i === 0;
    } else if (STRAIGHT_QUOTES.has(tok)) {
      if (open[tok]) {
        tight = true; // closing quote hugs the quoted text
        open[tok] = false;
      } else if (tok === "'" && !attachNext && !tokens.includes("'", i + 1)) {
        // A lone ' after a word with no ' later in the line cannot be an opening quote: it is
        // a possessive or elision apostrophe (`Felix' room`, `cockatrice' den`), glued left.
        // Two such apostrophes in one line look exactly like a quoted span and display as one;
        // the tokens carry no spacing that could tell them apart.
        tight = true;
      } else {
        tight = attachNext;
        attachAfter = true;
        open[tok] = true;
      }
    } else if (CLOSERS.has(tok)) {
      tight = true;
    } else if (DASHES.has(tok)) {
      tight = true;
      attachAfter = true;
    } else {
      // infixTight(i + 1): this token is an infix symbol glued to both neighbours (`and/or`).
      tight = attachNext || infixTight(tokens, i) || infixTight(tokens, i + 1);
    }

    if (OPENERS.has(tok) || CURRENCY_RE.test(tok)) attachAfter = true;
    // A plural possessive (`sons'`) swallowed the apostrophe that would have closed an open
    // single quote (`'the boys'`), so treat it as the closing one.
    if (open["'"] && tok.length > 1 && tok.endsWith("'")) open["'"] = false;

    out += tight ? tok : ' ' + tok;
    attachNext = attachAfter;
  }
  return out;
}

// Symbols that prose writes without spaces between two words or numbers: `and/or`, `1-3`,
// `3:16`, `10:30`. The tokenizer keeps inner hyphens of words in the word, so a lone `-`
// between words came from spaced text and stays spaced; only number-led ranges are glued.
function infixTight(tokens: string[], i: number): boolean {
  if (i < 2 || i >= tokens.length) return false;
  const sym = tokens[i - 1];
  const left = tokens[i - 2];
  const right = tokens[i];
  if (isMarkerToken(left) || isMarkerToken(right)) return false;
  if (sym === '/') return ALNUM_END_RE.test(left) && ALNUM_START_RE.test(right);
  if (sym === ':') return NUMBER_START_RE.test(left) && NUMBER_START_RE.test(right);
  if (sym === '-' || sym === '–') {
    return NUMBER_START_RE.test(left) && ALNUM_START_RE.test(right);
  }
  return false;
}
