// The store sink: where the last stage's PackedCountBatches go. Each batch is written with
// StoreClient.packedAs (batchAs from the packed keys, without an object per key) under batchProducer(model, origin, run), so a batch written twice (a redelivery
// after a crash, a re-read after a resume) is applied once, then acked to the coordinator by the
// actor. Its RAW increments are why: LEFT and FIRST keys are marks (created with the empty value
// unless present), idempotent anyway. Increments and marks travel packed and are applied by the
// actors in key order (store/actor/incr_queue.ts), several times cheaper than plain sets.
//
// It groups a batch's keys by the fork map; a fork split between two writes of one batch would
// group it differently, so the runtime splits and moves no fork while a pipeline counts.
import { MemberDeadError, StoreClient, StoreReplyError, TimeoutError } from '../../store/client/client.js';
import { batchProducer, countBatchMessage, type PackedCountBatch } from '../../schemas/pipeline.js';

/** Writes one output of the last stage; resolves once it is durable (then the actor acks it). */
export interface Sink {
  write(out: unknown): Promise<void>;
  /** The stage message of an output, for the tap, when it is not the output itself. */
  message?(out: unknown): unknown;
  close(): void;
}

/** Codes a busy cluster answers for a while and then stops answering: worth the same batch again. */
const PASSING = new Set(['FENCED', 'OWNER_DEAD', 'MOVED', 'STOPPING']);
/** Waits between the sink's own tries of one batch (after the client's retries), ms. */
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000];

/**
 * Whether a failed batch write is a passing state of the cluster (a lease that lapsed under load,
 * a member thought dead for a moment, a timeout) rather than the batch's own fault. The same batch
 * under the same producer id is then written again: exactly once still, since the actors dedup it.
 */
function passing(err: unknown): boolean {
  if (err instanceof TimeoutError || err instanceof MemberDeadError) return true;
  return err instanceof StoreReplyError && PASSING.has(err.code);
}

export async function openStoreSink(endpoints: string[], model: string, timeoutMs = 10000, run = 0): Promise<Sink> {
  const client = await StoreClient.connect(endpoints, { timeoutMs });
  return {
    async write(out: unknown): Promise<void> {
      const batch = out as PackedCountBatch;
      if (batch.lengths.length === 0) return;
      // Rather than fail the actor (a restart redelivers every batch in flight), ride out a
      // passing state of the cluster; a lasting one still fails after about 15 s.
      for (let attempt = 0; ; attempt++) {
        try {
          return await client.packedAs(batchProducer(model, batch, run), batch.keys, batch.lengths, batch.deltas);
        } catch (err) {
          if (!passing(err) || attempt >= BACKOFF_MS.length) throw err;
          await new Promise((r) => setTimeout(r, BACKOFF_MS[attempt]));
          await client.refreshMap().catch(() => undefined);
        }
      }
    },
    message: (out) => countBatchMessage(out as PackedCountBatch),
    close: () => client.close(),
  };
}
