// A model in a running store, for commands that read or write one (`store import`, `export`,
// `ppl --connect`): the connection, and the store's answers that are the user's to fix (no such
// model, an unfinished import, a name already taken, no store at the endpoint) turned into input
// errors, which print as one line and exit 1. Loaded only by those commands: it pulls in ZeroMQ.
import type { LanguageModel } from '../../model/language_model.js';
import { InputError } from '../../model/errors.js';
import type { ModelMeta } from '../../schemas/model_meta.js';
import { StoreClient } from '../../store/client/client.js';
import { checkModelName } from '../../store/model/layout.js';
import { readModel } from '../../store/model/read_model.js';
import { IncompleteModelError, ModelNotFoundError } from '../../store/model/stored_meta.js';
import { ModelExistsError } from '../../store/model/write_model.js';
import type { Progress } from './progress.js';

/** Runs `fn` with a client of the store at `endpoint`, closed afterwards. */
export async function withStore<T>(endpoint: string, timeoutMs: number, fn: (client: StoreClient) => Promise<T>): Promise<T> {
  let client: StoreClient;
  try {
    client = await StoreClient.connect(endpoint, { timeoutMs, retries: 3 });
  } catch (err) {
    throw new InputError(`no store answers at ${endpoint}: ${(err as Error).message}`, undefined, undefined, 'start one with `dbslm store start`, or pass the endpoint of a running member to --connect');
  }
  try {
    return await withStoreErrors(() => fn(client));
  } finally {
    client.close();
  }
}

/** Runs `fn`, turning the store's answers that are the user's to fix (no such model, an unfinished one) into input errors. */
export async function withStoreErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ModelNotFoundError || err instanceof IncompleteModelError || err instanceof ModelExistsError) throw new InputError(err.message);
    throw err;
  }
}

/** Reads model `model` from the store at `endpoint`, with progress and warnings on stderr. */
export function loadStoreModel(endpoint: string, timeoutMs: number, model: string, progress?: Progress, asArpa = false): Promise<{ lm: LanguageModel; meta: ModelMeta }> {
  checkModelName(model); // before connecting: a bad name is the user's to fix, not the store's
  return withStore(endpoint, timeoutMs, async (client) => {
    const loaded = await readModel(client, model, {
      where: endpoint,
      onPhase: (p) => progress?.phase(p),
      onProgress: (d, t) => progress?.update(d, t),
      warn: (m) => process.stderr.write(`warning: model ${model}: ${m}\n`),
      asArpa,
    });
    progress?.endPhase();
    return loaded;
  });
}
