// Level 3's concept dictionary in the store (generate/concept_mining.ts mines it):
//
//   <model>.concept  routing prefix: u32 per context word  rest: empty  value: the span, u32 per word
//                    routing prefix: empty (no context)    rest: empty  value: ConceptHeader (JSON)
//                    routing prefix: empty (no context)    rest: "one-word"  value: the spans of every
//                        one-word context, packed: per span u32 word, u32 length, u32 per span word
//
// The one-word spans, a few thousand, are read whole when a dictionary is opened: a draft is then
// there from the first step, for any history whose last word has a span (speculative.ts drafts only
// from spans already read, never waiting for one).
// A context's span lives in a fork of its own context, like its followers; the header says the
// dictionary was written whole and for which version of the model, so a model written again
// since is never drafted from a stale dictionary (drafts are verified anyway: staleness would only
// waste round trips).
import { InputError } from '../../model/errors.js';
import type { ConceptDictionary } from '../../generate/concept_mining.js';
import type { ConceptSource } from '../../generate/speculative.js';
import { BatchedLookups } from '../client/batched_lookups.js';
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

function unpackIds(value: Buffer): Int32Array {
  const span = new Int32Array(value.length / 4);
  for (let i = 0; i < span.length; i++) span[i] = value.readUInt32BE(4 * i);
  return span;
}

export function conceptKey(model: string, context: readonly number[]): Buffer {
  return makeKey(modelNamespace(model, 'concept'), ids(context));
}

function oneWordKey(model: string): Buffer {
  return makeKey(modelNamespace(model, 'concept'), ids([]), Buffer.from('one-word'));
}

/** The spans of the one-word contexts, packed as the layout above says. */
function packOneWord(dictionary: ConceptDictionary): Buffer {
  const words: number[] = [];
  for (const [context, span] of dictionary) if (!context.includes(' ')) words.push(Number(context), span.length, ...span);
  return ids(words);
}

function unpackOneWord(packed: Buffer): Map<string, Int32Array> {
  const out = new Map<string, Int32Array>();
  for (let at = 0; at + 8 <= packed.length; ) {
    const word = packed.readUInt32BE(at);
    const length = packed.readUInt32BE(at + 4);
    at += 8;
    if (at + 4 * length > packed.length) throw new Error(`the one-word concept spans are cut short at byte ${at}; mine the dictionary again`);
    const span = new Int32Array(length);
    for (let i = 0; i < length; i++, at += 4) span[i] = packed.readUInt32BE(at);
    out.set(String(word), span);
  }
  return out;
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
  await client.batch([
    { op: 'set', key: oneWordKey(model), value: packOneWord(dictionary) },
    { op: 'set', key: conceptKey(model, []), value: Buffer.from(JSON.stringify(header)) },
  ]);
}

export async function readConceptHeader(client: StoreClient, model: string): Promise<ConceptHeader | undefined> {
  const value = await client.get(conceptKey(model, []));
  return value instanceof Buffer ? (JSON.parse(value.toString('utf8')) as ConceptHeader) : undefined;
}

/**
 * Drafts from the store: the span of the longest context of a history, among the contexts whose
 * spans are read (knownSpan, which never waits: speculative.ts drafts with what it has). Spans
 * asked for together are read with one multi-get per actor.
 */
export class StoreConcepts implements ConceptSource {
  private readonly spans = new BatchedLookups<Int32Array | undefined>(async (contexts) => {
    const values = await this.client.multiGet(contexts.map((c) => conceptKey(this.model, c)));
    return values.map((v) => (v instanceof Buffer ? unpackIds(v) : undefined));
  }, 200_000);

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
    const concepts = new StoreConcepts(client, model, order);
    const oneWord = await client.get(oneWordKey(model));
    // A dictionary mined before the one-word spans were packed reads them one by one instead.
    if (oneWord instanceof Buffer) concepts.oneWord = unpackOneWord(oneWord);
    return concepts;
  }

  /** The spans of every one-word context, when the dictionary packed them (kept apart from the bounded cache). */
  private oneWord?: Map<string, Int32Array>;

  private lengths(history: readonly number[]): number[][] {
    const out: number[][] = [];
    for (let len = Math.min(this.order - 1, history.length); len >= 1; len--) out.push(history.slice(history.length - len));
    return out;
  }

  knownSpan(history: readonly number[]): Int32Array | undefined {
    for (const context of this.lengths(history)) {
      const key = context.join(' ');
      const found = context.length === 1 && this.oneWord ? this.oneWord.get(key) : this.spans.answered(context)?.value;
      if (found) return found;
    }
    return undefined;
  }

  async spanFor(history: readonly number[]): Promise<Int32Array | undefined> {
    const found = await Promise.all(this.lengths(history).map((c) => this.spanOf(c)));
    return found.find((s) => s !== undefined);
  }

  private spanOf(context: number[]): Promise<Int32Array | undefined> {
    if (context.length === 1 && this.oneWord) return Promise.resolve(this.oneWord.get(context.join(' ')));
    return this.spans.get(context);
  }
}
