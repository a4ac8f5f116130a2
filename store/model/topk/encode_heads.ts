// The last pass of the Top-K heads: every head of the given forks, built with exact values
// (head_builder.ts), rewritten with the codes of the model's codebook (layout.ts encodeTopkHead);
// then the heads the actors hold (held_heads.ts: the longest contexts' while smoothing) written so.
// The codebook comes from the driver, trained on the merged sample of every head, so each actor
// encodes its heads exactly as buildTopK encodes the in-process ones.
import { encode, type Codebook } from '../../../model/quantize.js';
import type { StoreClient } from '../../client/client.js';
import { ROUTING_BYTES } from '../../protocol/keys.js';
import { ForkBatchWriter, type LocalBatchWriter } from '../fork_batches.js';
import { encodeTopkHead, exactHeadEntries, modelNamespace } from '../layout.js';
import { eachFork, scanRange, type LocalPageReader } from '../smooth/stat_scan.js';
import { HEAD_WRITES } from './head_builder.js';
import type { HeldHeads } from './held_heads.js';

/** Heads per scan page: a head is K x 8 bytes (256 at K = 32), and an actor encodes a page at one go. */
const PAGE_HEADS = 1000;

/** A head's exact entries (u32 word, f32le value) as stored codes (layout.ts encodeTopkHead). */
function codedHead(value: Buffer, codebook: Codebook, bits: number): Buffer {
  const n = exactHeadEntries(value);
  const words = new Array<number>(n);
  const codes = new Array<number>(n);
  for (let e = 0; e < n; e++) {
    words[e] = value.readUInt32BE(8 * e);
    codes[e] = encode(codebook, value.readFloatLE(8 * e + 4));
  }
  return encodeTopkHead(words, codes, bits);
}

/**
 * Encodes the heads of model `model` in `forks`; resolves with the number of heads. `local` reads
 * the own actor's pages without a request, `localWrite` writes its forks' heads so. Heads of
 * contexts of `heldLength` words are left as they are: the actors hold this model's heads of that
 * length (held_heads.ts), and any found in the store are an earlier smoothing's, coded already,
 * which the held ones overwrite (an incremental run, or smoothing again).
 */
export async function encodeHeads(client: StoreClient, model: string, codebook: Codebook, bits: number, forks: readonly string[], local?: LocalPageReader, localWrite?: LocalBatchWriter, heldLength = -1): Promise<number> {
  const ns = modelNamespace(model, 'topk');
  const nsBytes = Buffer.byteLength(ns, 'utf8');
  const writer = new ForkBatchWriter(client, { ...HEAD_WRITES, local: localWrite });
  let rows = 0;
  await eachFork(forks, 2, (fork) =>
    scanRange(client, ns, Buffer.from(fork, 'hex'), async (keys, values) => {
      for (let i = 0; i < keys.length; i++) {
        const value = values[i];
        if (!(value instanceof Buffer)) throw new Error(`a Top-K head of model ${model} holds a counter`);
        if ((keys[i]!.readUInt16BE(ROUTING_BYTES) - nsBytes - 1) / 4 === heldLength) continue;
        writer.set(keys[i]!, codedHead(value, codebook, bits));
        rows++;
      }
      await writer.ready();
    }, { pageSize: PAGE_HEADS, local }),
  );
  await writer.finish();
  return rows;
}

/**
 * Writes the heads `held` with codes; resolves with their number. Only once every actor's
 * encodeHeads is done: a coded head of 32 entries has a length an exact one could have, so a scan
 * still under way would encode it again.
 */
export async function writeHeldHeads(client: StoreClient, held: HeldHeads, codebook: Codebook, bits: number, localWrite?: LocalBatchWriter): Promise<number> {
  const writer = new ForkBatchWriter(client, { ...HEAD_WRITES, local: localWrite });
  let rows = 0;
  for (const [key, value] of held.byRouting()) {
    writer.set(key, codedHead(value, codebook, bits));
    if (++rows % PAGE_HEADS === 0) await writer.ready();
  }
  await writer.finish();
  return rows;
}
