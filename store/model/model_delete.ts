// Deleting a model's keys: every namespace a model may have, reserved ones included, so that no
// count or head of an older model outlives it. Deletes are exactly-once batches like any write.
import type { StoreClient } from '../client/client.js';
import { ForkBatchWriter } from './fork_batches.js';
import { MODEL_KINDS, modelNamespace, type ModelKind } from './layout.js';
import { scanNamespace } from './namespace_scan.js';

/** Deletes every key of `model` of the given kinds (default: all but the meta); resolves with how many. */
export async function deleteModelKeys(client: StoreClient, model: string, kinds: readonly ModelKind[] = MODEL_KINDS.filter((k) => k !== 'meta')): Promise<number> {
  let deleted = 0;
  for (const kind of kinds) {
    const writer = new ForkBatchWriter(client);
    // Keys are gathered first: deleting under a running scan would be safe (it resumes after its
    // cursor), but waiting on deletes inside a page callback is not possible.
    const keys: Buffer[] = [];
    await scanNamespace(client, modelNamespace(model, kind), (page) => {
      for (const key of page) keys.push(key);
    }, { keysOnly: true });
    for (let i = 0; i < keys.length; i++) {
      writer.delete(keys[i]!);
      if ((i & 1023) === 1023) await writer.ready();
    }
    await writer.finish();
    deleted += keys.length;
  }
  return deleted;
}
