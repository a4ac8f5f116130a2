// The default tokenizer for raw text: words, numbers, structural markers and single
// punctuation/symbol characters, case kept. `detokenize` (detokenize.ts) undoes it for display.
//
// Decisions (each one is also what the detokenizer assumes):
// - A word starts with a letter and continues with letters, combining marks and digits
//   (`é` written as e + U+0301 stays one word; `H2O`, `mp3` are one word).
// - Apostrophes (' and ’) and hyphens between two word characters stay inside the word:
//   `don't`, `LORD's`, `well-known`, `rock'n'roll`. Clitics are NOT split, so `'s` never appears
//   as its own token and the detokenizer has nothing to glue back.
// - A plural possessive keeps its trailing apostrophe when the word ends in s/S and no word
//   character follows: `sons'`, `Jesus'`. Without this, `sons' house` would give a lone `'` that
//   the detokenizer could not tell from an opening quote (the KJV pairs have ~400 of these).
//   Other trailing apostrophes (`Felix' room`) stay lone tokens; detokenize.ts guesses them.
// - A number is decimal digits with inner `.` or `,` groups (`3.14`, `1,000`, `1,000.5`); a
//   trailing `.` or `,` is punctuation (`in 2020.`). Letters glued to a number stay with it, so
//   ordinals and units are one token (`3rd`, `10km`) and display as written.
// - Two or more hyphens are one token (`--`), the plain-text dash.
// - Markers are single tokens: `|UPPERCASE|` optionally followed by `:` (`|USER|:`, `|END|`), and
//   `|CTX|:key:value` with key free of spaces and colons and value free of spaces.
// - Any other character that is not whitespace, control or format is a token of its own,
//   together with the combining marks, variation selectors and emoji modifiers that follow it, so
//   an accent or skin tone is never split from its base. Emoji joined by ZWJ and flag pairs stay
//   one token.
// - Whitespace (Unicode \s, which includes the BOM) and control and format characters
//   (\p{Cc}, \p{Cf}: NUL, zero-width space, soft hyphen) only separate tokens.
//
// One global regex run by String.prototype.match: V8 collects all matches in native code, and
// characters that no alternative matches (whitespace, controls) are skipped by the scan itself,
// so there is no per-token JS work. Alternatives are ordered so the most specific wins at each
// position: markers before the `|` symbol, words and numbers before single characters.

const MARKER_CTX = String.raw`\|CTX\|:[^\s:]+:\S+`;
const MARKER = String.raw`\|[A-Z][A-Z0-9_]*\|:?`;
const WORD_CHAR = String.raw`[\p{L}\p{M}\p{Nd}]`;
const WORD =
  String.raw`\p{L}${WORD_CHAR}*(?:['’\-]${WORD_CHAR}+)*` +
  String.raw`(?:(?<=[sS])['’](?!${WORD_CHAR}))?`;
// `--` and `---` stand in for dashes in plain-text sources (KJV: `sin--;`); keep them whole.
const DASH = String.raw`-{2,}`;
const NUMBER = String.raw`\p{Nd}+(?:[.,]\p{Nd}+)*(?:\p{L}${WORD_CHAR}*)?`;
// Variation selectors are already \p{M}; skin tones are not.
const ATTACHED = String.raw`[\p{M}\p{Emoji_Modifier}]`;
const OTHER =
  String.raw`\p{RI}\p{RI}|[^\s\p{Cc}\p{Cf}]${ATTACHED}*` +
  String.raw`(?:\u{200D}\p{Extended_Pictographic}${ATTACHED}*)*`;

const TOKEN_RE = new RegExp(
  [MARKER_CTX, MARKER, WORD, NUMBER, DASH, OTHER].join('|'),
  'gu',
);

/** Split raw text into tokens (see the decisions above). Never returns empty strings. */
export function tokenizeRegex(text: string): string[] {
  // match() with a global regex resets lastIndex itself, so the shared regex is reentrant here.
  return text.match(TOKEN_RE) ?? [];
}

/** True for the structural markers the tokenizer keeps whole (`|USER|:`, `|END|`, `|CTX|:k:v`). */
export function isMarkerToken(token: string): boolean {
  return MARKER_WHOLE_RE.test(token);
}

const MARKER_WHOLE_RE = new RegExp(`^(?:${MARKER_CTX}|${MARKER})$`, 'u');
