// A model's meta key, read and written: the key that says a model of that name is in the store,
// whether it was written whole, and what it is (schemas/model_meta.ts).
import type { ModelMeta } from '../../schemas/model_meta.js';
import type { StoreClient } from '../client/client.js';
import { decodeMeta, encodeMeta, metaKey, modelNamespace } from './layout.js';

/** No model of this name in the store. */
export class ModelNotFoundError extends Error {
  constructor(
    readonly model: string,
    readonly where: string,
  ) {
    super(`no model "${model}" in the store at ${where} (no key ${modelNamespace(model, 'meta')}:); import one with \`dbslm store import --arpa FILE --model ${model} --connect ${where}\`, or build one into the store with \`dbslm pipeline run\` (a definition named ${model} with store.join: [${where}])`);
  }
}

/** A model whose import or materialise did not finish. */
export class IncompleteModelError extends Error {
  constructor(
    readonly model: string,
    readonly where: string,
    meta: ModelMeta,
  ) {
    super(`model "${model}" in the store at ${where} is incomplete: writing version ${meta.version} (from ${meta.source || 'an unknown source'}) did not finish; import it again with --replace`);
  }
}

/** The meta of `model`, or undefined when there is no such model. */
export async function readModelMeta(client: StoreClient, model: string): Promise<ModelMeta | undefined> {
  const value = await client.get(metaKey(model));
  if (value === undefined) return undefined;
  if (typeof value === 'bigint') throw new Error(`the meta key of model ${model} holds a counter, not a meta record`);
  return decodeMeta(value, model);
}

/** The meta of a whole model; ModelNotFoundError or IncompleteModelError otherwise. `where` names the store in messages. */
export async function requireModelMeta(client: StoreClient, model: string, where: string): Promise<ModelMeta> {
  const meta = await readModelMeta(client, model);
  if (!meta) throw new ModelNotFoundError(model, where);
  if (!meta.complete) throw new IncompleteModelError(model, where, meta);
  return meta;
}

export async function writeModelMeta(client: StoreClient, model: string, meta: ModelMeta): Promise<void> {
  await client.batch([{ op: 'set', key: metaKey(model), value: encodeMeta(meta) }]);
}
