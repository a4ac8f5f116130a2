// The vocabulary: word <-> id, with KenLM's fixed ids for the three special tokens so that our
// unigram section lists words in the same order as lmplz (specials first, then first appearance).
export const UNK = 0;
export const BOS = 1;
export const EOS = 2;
export const UNK_TOKEN = '<unk>';
export const BOS_TOKEN = '<s>';
export const EOS_TOKEN = '</s>';

export class Vocab {
  readonly words: string[] = [UNK_TOKEN, BOS_TOKEN, EOS_TOKEN];
  private readonly ids = new Map<string, number>([
    [UNK_TOKEN, UNK],
    [BOS_TOKEN, BOS],
    [EOS_TOKEN, EOS],
  ]);

  get size(): number {
    return this.words.length;
  }

  /** The id of `word`, adding it if new. */
  intern(word: string): number {
    let id = this.ids.get(word);
    if (id === undefined) {
      id = this.words.length;
      this.words.push(word);
      this.ids.set(word, id);
    }
    return id;
  }

  /** The id of `word`, or UNK when it is not in the vocabulary. */
  lookup(word: string): number {
    return this.ids.get(word) ?? UNK;
  }

  has(word: string): boolean {
    return this.ids.has(word);
  }

  word(id: number): string {
    return this.words[id] ?? UNK_TOKEN;
  }

  static isSpecial(word: string): boolean {
    return word === UNK_TOKEN || word === BOS_TOKEN || word === EOS_TOKEN;
  }
}
