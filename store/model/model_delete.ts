// Deleting a model's keys: every namespace a model may have, reserved ones included, so that no
// count or head of an older model outlives it. One pass over the store finds them all (the
// namespace family `<model>.`); deletes are exactly-once batches like any write.
import type { StoreClient } from '../client/client.js';
import { ROUTING_BYTES } from '../protocol/keys.js';
import { ForkBatchWriter } from './fork_batches.js';
import { MODEL_KINDS, type ModelKind } from './layout.js';
import { scanNamespace } from './namespace_scan.js';

export interface DeleteModelOptions {
  /** The kinds whose keys go (default: all but the meta, which the caller rewrites). */
  kinds?: readonly ModelKind[];
  /**
   * Keys to leave: a replacing model passes the keys it is about to write anyway, so a model
   * replaced by a similar one costs few deletes (a delete costs as much as a write).
   */
  keep?: (kind: ModelKind, key: Buffer) => boolean;
}

/** Where a stored key's namespace starts: after the routing bytes and the u16 length (protocol/keys.ts). */
const NS_OFFSET = ROUTING_BYTES + 2;

/** Deletes the keys of `model` (see DeleteModelOptions); resolves with how many. */
export async function deleteModelKeys(client: StoreClient, model: string, opts: DeleteModelOptions = {}): Promise<number> {
  const kinds = new Set<string>(opts.kinds ?? MODEL_KINDS.filter((k) => k !== 'meta'));
  const family = `${model}.`;
  const from = NS_OFFSET + Buffer.byteLength(family, 'utf8');
  // Keys are gathered first and deleted after: a page callback cannot wait for the deletes.
  const doomed: Buffer[] = [];
  await scanNamespace(
    client,
    family,
    (keys) => {
      for (const key of keys) {
        // The family also holds the namespaces of a model named `<model>.x` (`<model>.x.p`): not kinds, so left alone.
        const spelled = key.toString('utf8', from, key.indexOf(0, from));
        // The statistics are one namespace per order (`<model>.stat1` ...): all of kind stat.
        const kind = (/^stat\d+$/.test(spelled) ? 'stat' : spelled) as ModelKind;
        if (kinds.has(kind) && !opts.keep?.(kind, key)) doomed.push(key);
      }
    },
    { keysOnly: true, family: true },
  );
  const writer = new ForkBatchWriter(client);
  for (let i = 0; i < doomed.length; i++) {
    writer.delete(doomed[i]!);
    if ((i & 1023) === 1023) await writer.ready();
  }
  await writer.finish();
  return doomed.length;
}
