// The store sink: where the last stage's CountBatches go. Each batch is written with
// StoreClient.batchAs under batchProducer(model, origin, run), so a batch written twice (a redelivery
// after a crash, a re-read after a resume) is applied once, then acked to the coordinator by the
// actor. Its RAW increments are why: LEFT and FIRST keys are sets of an empty value, idempotent anyway.
//
// batchAs groups a batch's ops by the fork map; a fork split between two writes of one batch would
// group it differently, so the runtime splits and moves no fork while a pipeline counts.
import { MemberDeadError, StoreClient, StoreReplyError, TimeoutError, type ClientOp } from '../../store/client/client.js';
import { batchProducer, type CountBatch } from '../../schemas/pipeline.js';

/** Writes one output of the last stage; resolves once it is durable (then the actor acks it). */
export interface Sink {
  write(out: unknown): Promise<void>;
  close(): void;
}

const EMPTY = Buffer.alloc(0);

/** The store ops of a CountBatch: RAW increments and LEFT/FIRST keys set to the empty value. */
export function countBatchOps(batch: CountBatch): ClientOp[] {
  const ops: ClientOp[] = batch.incrs.map(({ key, delta }) => ({ op: 'incr', key, delta }));
  for (const key of batch.sets) ops.push({ op: 'set', key, value: EMPTY });
  return ops;
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
      const batch = out as CountBatch;
      const ops = countBatchOps(batch);
      if (ops.length === 0) return;
      // Rather than fail the actor (a restart redelivers every batch in flight), ride out a
      // passing state of the cluster; a lasting one still fails after about 15 s.
      for (let attempt = 0; ; attempt++) {
        try {
          return await client.batchAs(batchProducer(model, batch, run), ops);
        } catch (err) {
          if (!passing(err) || attempt >= BACKOFF_MS.length) throw err;
          await new Promise((r) => setTimeout(r, BACKOFF_MS[attempt]));
          await client.refreshMap().catch(() => undefined);
        }
      }
    },
    close: () => client.close(),
  };
}
