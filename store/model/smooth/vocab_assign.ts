// Word ids from the training statistics, as the in-process Vocab numbers words (model/vocab.ts):
// <unk>, <s>, </s> are 0, 1, 2, then every word in order of first appearance. The unigram range
// (empty context, one fork) holds a FIRST key per word and counted batch whose position bytes sort
// by position, so a word's least FIRST key is its first appearance. Writes `<model>.vocab` and
// `<model>.word` (layout.ts); the vocabulary is held in memory (it is words, not counts).
import { InputError } from '../../../model/errors.js';
import { BOS_TOKEN, EOS_TOKEN, UNK_TOKEN, Vocab } from '../../../model/vocab.js';
import type { StoreClient } from '../../client/client.js';
import { ForkBatchWriter } from '../fork_batches.js';
import { readVocab } from '../read_model.js';
import { encodeWordId, vocabKey, wordKey } from '../layout.js';
import { statContextRange } from '../stat_keys.js';
import { ContextRangeReader, type Follower } from './context_ranges.js';

/** A vocabulary by id with the reverse lookup. */
export class VocabIndex {
  private readonly ids = new Map<string, number>();
  constructor(readonly words: readonly string[]) {
    words.forEach((w, id) => this.ids.set(w, id));
  }

  get size(): number {
    return this.words.length;
  }

  /** The id of `word`; throws for a word the statistics did not list as a unigram. */
  idOf(word: string): number {
    const id = this.ids.get(word);
    if (id === undefined) throw new Error(`the word ${JSON.stringify(word)} occurs in an n-gram of the training statistics but not as a unigram; the statistics are incomplete: count the text again into a fresh model`);
    return id;
  }
}

/** The unigram followers of `model`'s statistics, read with one scan of the unigram range. */
async function unigramFollowers(client: StoreClient, model: string): Promise<Follower[]> {
  const reader = new ContextRangeReader(model, 1);
  const followers: Follower[] = [];
  let page: Buffer[] = [];
  const flush = (): void => {
    for (const range of reader.push(page, page.map(() => undefined))) followers.push(...range.followers);
    page = [];
  };
  for await (const { key } of client.scan(statContextRange(model, []), { pageSize: 10000, keysOnly: true })) {
    page.push(key);
    if (page.length === 10000) flush();
  }
  flush();
  const last = reader.end();
  if (last) followers.push(...last.followers);
  return followers;
}

/** Words by id: the specials, then the other unigrams by their least FIRST position. */
export function vocabularyOf(model: string, followers: readonly Follower[]): string[] {
  const words: { word: string; first: Buffer }[] = [];
  for (const f of followers) {
    if (Vocab.isSpecial(f.word)) continue;
    if (!f.first) throw new Error(`the unigram ${JSON.stringify(f.word)} of model ${model} has no FIRST key (no position it was seen at); the statistics are incomplete: count the text again into a fresh model`);
    words.push({ word: f.word, first: f.first });
  }
  words.sort((x, y) => Buffer.compare(x.first, y.first));
  return [UNK_TOKEN, BOS_TOKEN, EOS_TOKEN, ...words.map((w) => w.word)];
}

/** Reads the unigrams, numbers them, writes the vocabulary keys; resolves with the vocabulary. */
export async function assignVocab(client: StoreClient, model: string): Promise<VocabIndex> {
  const words = vocabularyOf(model, await unigramFollowers(client, model));
  if (words.length <= 3) throw new InputError(`model ${model} has no counted words (no unigrams in ${model}.stat1)`, undefined, undefined, 'count a non-empty training text into this model first');
  const writer = new ForkBatchWriter(client);
  for (let id = 0; id < words.length; id++) {
    writer.set(vocabKey(model, id), Buffer.from(words[id]!, 'utf8'));
    writer.set(wordKey(model, words[id]!), encodeWordId(id));
    if ((id & 511) === 511) await writer.ready();
  }
  await writer.finish();
  return new VocabIndex(words);
}

/**
 * The vocabulary assignVocab wrote, `size` words (what a store actor running a smoothing job
 * uses): read from `<model>.vocab`, a few thousand keys, rather than derived again from the
 * unigram statistics, whose FIRST keys are hundreds of thousands.
 */
export async function readVocabIndex(client: StoreClient, model: string, size: number): Promise<VocabIndex> {
  return new VocabIndex(await readVocab(client, model, size));
}
