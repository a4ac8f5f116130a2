// `topk --connect`: the Top-K head serving a history, read from a model in a store (the heads the
// pipeline's materialise step or `store import` wrote), printed as `topk --arpa` prints the head
// it builds in-process. Loaded only by that command: it pulls in ZeroMQ.
import { formatFloat32 } from '../../model/float32_text.js';
import { historyWords, type LineTokenizer } from '../../model/line_ids.js';
import { BOS, BOS_TOKEN, UNK } from '../../model/vocab.js';
import type { StoreClient } from '../../store/client/client.js';
import { checkModelName, decodeWordId, vocabKey, wordKey } from '../../store/model/layout.js';
import { requireModelMeta } from '../../store/model/stored_meta.js';
import { headExactValues, readTopKHead, requireTopK } from '../../store/model/topk/read_head.js';
import { withStore } from './store_model.js';

/** The ids of words in the model's vocabulary (`<model>.word`), <unk> for the unknown. */
async function wordIds(client: StoreClient, model: string, words: readonly string[]): Promise<number[]> {
  const values = await client.multiGet(words.map((w) => wordKey(model, w)));
  return values.map((v, i) => (words[i] === BOS_TOKEN ? BOS : v instanceof Buffer ? decodeWordId(v) : UNK));
}

/** The words of ids (`<model>.vocab`). */
async function wordsOf(client: StoreClient, model: string, ids: readonly number[]): Promise<string[]> {
  const values = await client.multiGet(ids.map((id) => vocabKey(model, id)));
  return values.map((v, i) => {
    if (!(v instanceof Buffer)) throw new Error(`model ${model} has no word for id ${ids[i]}`);
    return v.toString('utf8');
  });
}

/** The table `topk --arpa` prints, for the head of `history` in model `model` of the store at `endpoint`. */
export function storeHeadTable(endpoint: string, timeoutMs: number, model: string, tokenize: LineTokenizer, history: string, k: number): Promise<string> {
  checkModelName(model);
  return withStore(endpoint, timeoutMs, async (client) => {
    const meta = await requireModelMeta(client, model, endpoint);
    const topk = requireTopK(meta, model);
    if (k > topk.k) process.stderr.write(`warning: model ${model} keeps ${topk.k} followers per context; showing ${topk.k}, not ${k}\n`);
    const words = historyWords(tokenize, history);
    const ids = words.length ? await wordIds(client, model, words) : [BOS];
    const head = await readTopKHead(client, model, meta, ids);
    const shown = Math.min(k, head.words.length);
    const exact = await headExactValues(client, model, head.context, head.words.slice(0, shown));
    const [used, names] = await Promise.all([wordsOf(client, model, head.stored), wordsOf(client, model, head.words.slice(0, shown))]);
    let out = `context: "${used.join(' ')}"\nrank\tword\tlog10 p\tquantized\n`;
    for (let i = 0; i < shown; i++) out += `${i + 1}\t${names[i]}\t${formatFloat32(exact[i]!)}\t${formatFloat32(head.values[i]!)}\n`;
    return out;
  });
}
