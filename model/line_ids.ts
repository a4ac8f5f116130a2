// Text read against a model becomes word ids here, split by the tokenizer the model was built
// with (--tokenizer). Every command that scores or looks up text goes through this one path, so
// none can split text differently from the others or from `build`.
import { BOS, BOS_TOKEN, type Vocab } from './vocab.js';
import { tokenizeWhitespace } from './tokenizer.js';

/** A line tokenizer, as model/tokenizer.ts getTokenizer returns it. */
export type LineTokenizer = (line: string) => string[];

/** The ids of a line's words; a word the model does not know is <unk>. */
export function lineToIds(vocab: Vocab, tokenize: LineTokenizer, line: string): number[] {
  return tokenize(line).map((word) => vocab.lookup(word));
}

/**
 * The words of a history a user typed (topk --context), where a space-separated `<s>` stands for
 * the sentence start whatever the tokenizer: the regex tokenizer would split it into `<`, `s`, `>`.
 * Splitting on whitespace first changes nothing else: no token of either tokenizer holds a space.
 * (`topk --connect` looks these words up in the store's vocabulary.)
 */
export function historyWords(tokenize: LineTokenizer, history: string): string[] {
  return tokenizeWhitespace(history).flatMap((part) => (part === BOS_TOKEN ? [BOS_TOKEN] : tokenize(part)));
}

/** The ids of historyWords (an unknown word is <unk>, `<s>` is the sentence start). */
export function historyToIds(vocab: Vocab, tokenize: LineTokenizer, history: string): number[] {
  return historyWords(tokenize, history).map((word) => (word === BOS_TOKEN ? BOS : vocab.lookup(word)));
}
