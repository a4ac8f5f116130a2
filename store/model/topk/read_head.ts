// Reading Top-K heads back (`topk --connect`, and the generator of issue 8): the head serving a
// history is the head of its longest suffix (at most order - 1 words) that has one, as
// model/topk.ts rowFor picks the row of the longest stored context or of its nearest suffix with
// followers. One multiGet finds it; the values are the codes' centers from the meta.
//
// headExactValues recomputes the exact log10 p of a head's words from `<model>.p`, with the
// arithmetic of the heads' builders (each head value is rounded to float32, a backed-off one is
// the suffix head's value plus the backoffs passed): for showing next to the quantized values.
import type { ModelMeta, TopKMeta } from '../../../schemas/model_meta.js';
import type { StoreClient, Value } from '../../client/client.js';
import { decodeNgramValue, decodeTopkHead, ngramKey, topkKey } from '../layout.js';

export interface TopKHead {
  /** The context whose head this is: the longest suffix of the history with a head. */
  context: number[];
  /** The longest suffix of the history stored as an n-gram (what scoring would consult); the empty context when none is. */
  stored: number[];
  /** Words, most probable first. */
  words: number[];
  codes: number[];
  /** log10 p of each word as its code decodes. */
  values: number[];
}

/** The meta's Top-K record; an error naming the model when it has no heads. */
export function requireTopK(meta: ModelMeta, model: string): TopKMeta {
  if (!meta.topk) throw new Error(`model ${model} has no Top-K heads (it was written before they existed, or without them): import it again with --replace, or run its pipeline again`);
  return meta.topk;
}

/** The suffixes of a history (word ids, oldest first) a head can serve, at most order - 1 words: longest first, the empty one last. */
function suffixesOf(history: readonly number[], order: number): number[][] {
  const from = Math.max(0, history.length - (order - 1));
  const out: number[][] = [];
  for (let i = from; i <= history.length; i++) out.push(history.slice(i));
  return out;
}

/** The head serving `history` in model `model` (whose meta is `meta`). */
export async function readTopKHead(client: StoreClient, model: string, meta: ModelMeta, history: readonly number[]): Promise<TopKHead> {
  const topk = requireTopK(meta, model);
  const suffixes = suffixesOf(history, meta.order);
  const nonEmpty = suffixes.slice(0, -1);
  const values = await client.multiGet([...suffixes.map((s) => topkKey(model, s)), ...nonEmpty.map((s) => ngramKey(model, s))]);
  const at = suffixes.findIndex((_, i) => values[i] instanceof Buffer);
  if (at < 0) throw new Error(`model ${model} has no Top-K head for the empty context; its heads are incomplete: import it again with --replace`);
  const storedAt = nonEmpty.findIndex((_, i) => values[suffixes.length + i] instanceof Buffer);
  const { words, codes } = decodeTopkHead(values[at] as Buffer, topk.bits);
  return { context: suffixes[at]!, stored: storedAt < 0 ? [] : nonEmpty[storedAt]!, words, codes, values: codes.map((c) => topk.centers[c]!) };
}

/** The exact log10 p (float32, as the heads were built) of each of `words` in the head of `context`, from `<model>.p`. */
export async function headExactValues(client: StoreClient, model: string, context: readonly number[], words: readonly number[]): Promise<number[]> {
  // Suffixes c_0 = context ... c_L = the empty context: has a head, its backoff, p(w | c_j) for every word.
  const suffixes = suffixesOf(context, context.length + 1);
  const L = context.length;
  const keys: Buffer[] = [...suffixes.map((s) => topkKey(model, s)), ...suffixes.slice(0, -1).map((s) => ngramKey(model, s))];
  for (const s of suffixes) for (const w of words) keys.push(ngramKey(model, [...s, w]));
  const got = await client.multiGet(keys);
  const hasHead = (j: number): boolean => got[j] instanceof Buffer;
  const backoff = (j: number): number => {
    const v: Value = got[L + 1 + j];
    return v instanceof Buffer ? decodeNgramValue(v).backoff : 0;
  };
  const logProb = (j: number, i: number): number | undefined => {
    const v: Value = got[2 * L + 1 + j * words.length + i];
    return v instanceof Buffer ? decodeNgramValue(v).logProb : undefined;
  };
  const valueAt = (j: number, i: number): number => {
    const own = logProb(j, i);
    if (own !== undefined) return Math.fround(own);
    if (j === L) throw new Error(`model ${model}: word ${words[i]} of a Top-K head is no unigram`);
    let extra = backoff(j);
    let s = j + 1;
    while (s < L && !hasHead(s)) extra += backoff(s++);
    return Math.fround(valueAt(s, i) + extra);
  };
  return words.map((_, i) => valueAt(0, i));
}
