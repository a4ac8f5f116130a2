// The store writes that count a batch of sentences (stat_keys.ts), aggregated over the batch: what
// the pipeline's count stage sends to the store actors. Pure: sentences in, ops out.
//
// Each sentence is <s> w1 ... wn </s> (no </s> for a last line without a final newline, as lmplz),
// and every n-gram of orders 1..N that ends in it and does not reach before its <s> is seen, as
// model/corpus_count.ts sees them. For each distinct such window W of order m:
//   - RAW += its occurrences when m = N or W starts with <s> (the n-grams whose adjusted count is
//     their count);
//   - LEFT (W[1..], W[0]) when m >= 2: W[0] precedes the lower-order n-gram W[1..];
// and each word's first position in the batch is a FIRST key. RAW increments must be applied
// exactly once (the runtime sends them as exactly-once batches); LEFT and FIRST are idempotent.
//
// The windows are counted in a trie of the batch, as corpus_count does for a corpus (each
// position extends the nodes that ended at the previous one), so an n-gram's key is built once per
// batch, not once per occurrence; keys are built in one allocation each (StatKeyBuilder).
import { BOS_TOKEN, EOS_TOKEN } from '../../model/vocab.js';
import { encodePosition, StatKeyBuilder, TAG_FIRST, TAG_LEFT, TAG_RAW, type Position } from './stat_keys.js';

export interface CountedSentence {
  /** The words, without <s> and </s>. */
  tokens: readonly string[];
  /** Whether the sentence ends with </s> (false only for a last line without a final newline). */
  eos: boolean;
  /** Where the sentence starts; token i of it is at { ...position, token: i }. */
  position: Omit<Position, 'token'>;
}

export interface StatOps {
  /** RAW counters to increase: apply each exactly once. */
  incrs: { key: Buffer; delta: number }[];
  /** LEFT and FIRST keys to set to the empty value (idempotent). */
  sets: Buffer[];
  /** Words counted (the sentences' tokens, without <s> and </s>). */
  words: number;
}

const ROOT = 0;
const BOS_ID = 0;
const EOS_ID = 1;

/** The n-grams of one batch: node n is (parent[n], word[n]); ids are the batch's own. */
class BatchTrie {
  parent = new Int32Array(1 << 12);
  word = new Int32Array(1 << 12);
  order = new Uint8Array(1 << 12);
  count = new Float64Array(1 << 12);
  size = 1;
  private readonly children = new Map<number, number>();

  /** The node of (parent, word), created if new; its count goes up by one. */
  see(parent: number, word: number): number {
    const key = parent * 0x100000 + word;
    let node = this.children.get(key);
    if (node === undefined) {
      if (this.size === this.parent.length) this.grow();
      node = this.size++;
      this.parent[node] = parent;
      this.word[node] = word;
      this.order[node] = this.order[parent]! + 1;
      this.children.set(key, node);
    }
    this.count[node]!++;
    return node;
  }

  /** The words of node n, first word first. */
  path(n: number, out: number[]): number[] {
    out.length = this.order[n]!;
    for (let i = out.length - 1; i >= 0; i--, n = this.parent[n]!) out[i] = this.word[n]!;
    return out;
  }

  private grow(): void {
    const size = this.parent.length * 2;
    const copy = <A extends Int32Array | Uint8Array | Float64Array>(a: A, b: A): A => (b.set(a), b);
    this.parent = copy(this.parent, new Int32Array(size));
    this.word = copy(this.word, new Int32Array(size));
    this.order = copy(this.order, new Uint8Array(size));
    this.count = copy(this.count, new Float64Array(size));
  }
}

export function statOpsOf(model: string, order: number, sentences: readonly CountedSentence[]): StatOps {
  const ids = new Map<string, number>([
    [BOS_TOKEN, BOS_ID],
    [EOS_TOKEN, EOS_ID],
  ]);
  const spelled: Buffer[] = [Buffer.from(BOS_TOKEN), Buffer.from(EOS_TOKEN)];
  const first = new Map<number, Position>();
  const trie = new BatchTrie();
  let words = 0;
  let prev = new Int32Array(order + 1);
  let cur = new Int32Array(order + 1);
  const step = (w: number, inSentence: number) => {
    const top = Math.min(inSentence, order);
    cur[0] = ROOT;
    for (let k = 1; k <= top; k++) cur[k] = trie.see(prev[k - 1]!, w);
    [prev, cur] = [cur, prev];
  };
  for (const sentence of sentences) {
    words += sentence.tokens.length;
    step(BOS_ID, 1);
    sentence.tokens.forEach((token, i) => {
      let id = ids.get(token);
      if (id === undefined) {
        id = spelled.length;
        ids.set(token, id);
        spelled.push(Buffer.from(token, 'utf8'));
      }
      if (!first.has(id)) first.set(id, { ...sentence.position, token: i });
      step(id, i + 2);
    });
    if (sentence.eos) step(EOS_ID, sentence.tokens.length + 2);
  }

  const keys = new StatKeyBuilder(model);
  const incrs: { key: Buffer; delta: number }[] = [];
  const sets: Buffer[] = [];
  const path: number[] = [];
  const wordsOf = (from: number, to: number) => path.slice(from, to).map((id) => spelled[id]!);
  for (let n = 1; n < trie.size; n++) {
    const m = trie.order[n]!;
    trie.path(n, path);
    if (m === order || path[0] === BOS_ID) incrs.push({ key: keys.key(wordsOf(0, m - 1), spelled[path[m - 1]!]!, TAG_RAW), delta: trie.count[n]! });
    if (m >= 2) sets.push(keys.key(wordsOf(1, m - 1), spelled[path[m - 1]!]!, TAG_LEFT, spelled[path[0]!]!));
  }
  for (const [id, position] of first) sets.push(keys.key([], spelled[id]!, TAG_FIRST, encodePosition(position)));
  return { incrs, sets, words };
}
