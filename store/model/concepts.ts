// Level 3's concept dictionary in the store (generate/concept_mining.ts mines it):
//
//   <model>.concept  routing prefix: u32 per context word  rest: empty  value: the span, u32 per word
//                    routing prefix: empty (no context)    rest: empty  value: ConceptHeader (JSON)
//
// A context's span lives in a fork of its own context, like its followers; the header says the
// dictionary was written whole and for which version of the model, so a model written again
// since is never drafted from a stale dictionary (drafts are verified anyway: staleness would only
// waste round trips).
import { InputError } from '../../model/errors.js';
import type { ConceptDictionary } from '../../generate/concept_mining.js';
import type { StoreClient } from '../client/client.js';
import { makeKey } from '../protocol/keys.js';
import { ForkBatchWriter } from './fork_batches.js';
import { modelNamespace } from './layout.js';
import { deleteModelKeys } from './model_delete.js';

export interface ConceptHeader {
  modelVersion: number;
  spans: number;
  minProbability: number;
  maxSpan: number;
}

function ids(context: readonly number[]): Buffer {
  const b = Buffer.allocUnsafe(4 * context.length);
  context.forEach((w, i) => b.writeUInt32BE(w, 4 * i));
  return b;
}

export function conceptKey(model: string, context: readonly number[]): Buffer {
  return makeKey(modelNamespace(model, 'concept'), ids(context));
}

/** Replaces the model's dictionary: old spans deleted, new ones written, the header last. */
export async function writeConcepts(client: StoreClient, model: string, dictionary: ConceptDictionary, header: ConceptHeader): Promise<void> {
  await deleteModelKeys(client, model, { kinds: ['concept'] });
  const writer = new ForkBatchWriter(client);
  let n = 0;
  for (const [context, span] of dictionary) {
    writer.set(conceptKey(model, context.split(' ').map(Number)), ids(Array.from(span)));
    if (++n % 1024 === 0) await writer.ready();
  }
  await writer.finish();
  await client.batch([{ op: 'set', key: conceptKey(model, []), value: Buffer.from(JSON.stringify(header)) }]);
}

export async function readConceptHeader(client: StoreClient, model: string): Promise<ConceptHeader | undefined> {
  const value = await client.get(conceptKey(model, []));
  return value instanceof Buffer ? (JSON.parse(value.toString('utf8')) as ConceptHeader) : undefined;
}

/** Drafts from the store: the span of the longest context of a history, all lengths asked at once. */
export class StoreConcepts {
  private readonly cache = new Map<string, Promise<Int32Array | undefined>>();

  private constructor(
    private readonly client: StoreClient,
    private readonly model: string,
    private readonly order: number,
  ) {}

  /** The dictionary of `model`; an error saying how to mine one when there is none for this version. */
  static async open(client: StoreClient, model: string, order: number, modelVersion: number, where: string): Promise<StoreConcepts> {
    const header = await readConceptHeader(client, model);
    const how = `mine them with \`dbslm concepts mine --connect ${where} --model ${model}\``;
    if (!header) throw new InputError(`model "${model}" in the store at ${where} has no concept dictionary (Level 3)`, undefined, undefined, how);
    if (header.modelVersion !== modelVersion) throw new InputError(`the concept dictionary of model "${model}" was mined from version ${header.modelVersion}; the model is now version ${modelVersion}`, undefined, undefined, how);
    return new StoreConcepts(client, model, order);
  }

  private lengths(history: readonly number[]): number[][] {
    const out: number[][] = [];
    for (let len = Math.min(this.order - 1, history.length); len >= 1; len--) out.push(history.slice(history.length - len));
    return out;
  }

  isCached(history: readonly number[]): boolean {
    return this.lengths(history).every((c) => this.cache.has(c.join(' ')));
  }

  async spanFor(history: readonly number[]): Promise<Int32Array | undefined> {
    const found = await Promise.all(this.lengths(history).map((c) => this.spanOf(c)));
    return found.find((s) => s !== undefined);
  }

  private spanOf(context: number[]): Promise<Int32Array | undefined> {
    const key = context.join(' ');
    let found = this.cache.get(key);
    if (!found) {
      if (this.cache.size >= 200_000) this.cache.clear();
      found = this.client.get(conceptKey(this.model, context)).then((v) => {
        if (!(v instanceof Buffer)) return undefined;
        const span = new Int32Array(v.length / 4);
        for (let i = 0; i < span.length; i++) span[i] = v.readUInt32BE(4 * i);
        return span;
      });
      found.catch(() => this.cache.delete(key));
      this.cache.set(key, found);
    }
    return found;
  }
}
