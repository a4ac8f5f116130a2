// Writing many keys exactly once without waiting on each: ops are gathered per fork and sent as
// one exactly-once batch (client.batch) per few hundred ops of a fork, with a bounded number of
// batches in flight so the writer neither floods the actors nor waits for each reply in turn.
// Ops held back past `maxBuffered` leave the largest forks first, maxInFlight batches at a time
// (in `ready()`), not all at once: sending every fork's ops together put a quarter of a million
// ops (KJV order 5's smoothing) in flight at once, for the receiving actors to hold as frames and
// decoded ops, and kept their event loops busy long enough for their peers to think them dead.
// Held ops are kept as bytes, one arena per fork (PackedOps), not as an object and two Buffers per
// op, which lived until their fork's send, so young GCs copied and promoted them. Together: the
// store actors' live heap while smoothing KJV order 5 went from ~100 MB to ~30 MB, their peak RSS
// from 475-614 MB to under 300 MB, at the same CPU time (pipeline/runtime/README.md, Figures).
import type { ClientOp, StoreClient } from '../client/client.js';
import { ROUTING_BYTES } from '../protocol/keys.js';

export interface ForkBatchOptions {
  /** Ops per batch (one fork's); 2048 by default (KJV order 5 into one actor: 14 s to write at 2048, 17 s at 512). */
  opsPerBatch?: number;
  /** Ops held back over all forks before the largest forks' ops are sent, however few (see ready()). */
  maxBuffered?: number;
  /** Batches awaiting their reply at most; `ready()` waits below it. */
  maxInFlight?: number;
  /** Called with the number of ops written so far after each batch. */
  onWritten?: (written: number) => void;
  /** Applies one fork's ops in the writer's own store actor when it serves that fork (see LocalBatchWriter). */
  local?: LocalBatchWriter;
}

/**
 * Writes one fork's ops (sets) into the database of the store actor the writer runs in, when that
 * actor serves the fork now, without a request to itself (smooth/smooth_jobs.ts): the promise
 * settles once they are committed. undefined: not served there now, so the ops go over the wire.
 */
export type LocalBatchWriter = (ops: ClientOp[]) => Promise<void> | undefined;

/**
 * The indices of `keys` ordered by their routing bytes (where their rows lie in the store's B-tree:
 * the keys of a fork are spread over it by the routing hash), in given order among equal ones.
 * Numbers compared, not the keys' bytes: this runs on every op a writer sends.
 */
export function inRoutingOrder(keys: readonly Buffer[]): Uint32Array {
  const routing = Uint32Array.from(keys, (key) => (key.length >= ROUTING_BYTES ? key.readUInt32BE(0) : 0));
  return Uint32Array.from(keys, (_, i) => i).sort((x, y) => routing[x]! - routing[y]! || x - y);
}

/** The ops of one fork held back, back to back: u8 kind (0 set, 1 delete), u32 key length, key, and for a set u32 value length, value. */
class PackedOps {
  count = 0;
  private bytes: Buffer = Buffer.allocUnsafe(4096);
  private pos = 0;

  add(kind: 0 | 1, key: Buffer, value?: Buffer): void {
    const need = 9 + key.length + (value ? value.length : 0);
    if (this.pos + need > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.pos + need));
      this.bytes.copy(grown, 0, 0, this.pos);
      this.bytes = grown;
    }
    const b = this.bytes;
    b[this.pos++] = kind;
    b.writeUInt32LE(key.length, this.pos);
    this.pos += 4 + key.copy(b, this.pos + 4);
    if (value) {
      b.writeUInt32LE(value.length, this.pos);
      this.pos += 4 + value.copy(b, this.pos + 4);
    }
    this.count++;
  }

  /** The ops, as views of the arena (which is handed over: this holder is dropped after). */
  ops(): ClientOp[] {
    const b = this.bytes;
    const out = new Array<ClientOp>(this.count);
    for (let i = 0, at = 0; i < this.count; i++) {
      const kind = b[at++];
      const keyLength = b.readUInt32LE(at);
      const key = b.subarray(at + 4, (at += 4 + keyLength));
      if (kind === 1) {
        out[i] = { op: 'delete', key };
        continue;
      }
      const valueLength = b.readUInt32LE(at);
      out[i] = { op: 'set', key, value: b.subarray(at + 4, (at += 4 + valueLength)) };
    }
    return out;
  }
}

export class ForkBatchWriter {
  private readonly buffers = new Map<string, PackedOps>();
  private readonly inFlight = new Set<Promise<void>>();
  private buffered = 0;
  private failure: { error: unknown } | undefined;
  written = 0;
  private readonly opsPerBatch: number;
  private readonly maxBuffered: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly client: StoreClient,
    private readonly opts: ForkBatchOptions = {},
  ) {
    this.opsPerBatch = opts.opsPerBatch ?? 2048;
    this.maxBuffered = opts.maxBuffered ?? 262144;
    this.maxInFlight = opts.maxInFlight ?? 16;
  }

  set(key: Buffer, value: Buffer): void {
    this.add(0, key, value);
  }

  delete(key: Buffer): void {
    this.add(1, key);
  }

  /**
   * Resolves once fewer than maxInFlight batches are in flight and fewer than maxBuffered ops are
   * held back (sending the largest forks until half are left); rethrows a failed batch's error.
   * Call it between ops.
   */
  async ready(): Promise<void> {
    if (this.buffered >= this.maxBuffered && !this.failure) {
      const largest = [...this.buffers.entries()].sort((a, b) => b[1].count - a[1].count).map(([fork]) => fork);
      for (const fork of largest) {
        if (this.buffered < this.maxBuffered / 2 || this.failure) break;
        await this.room();
        this.send(fork);
      }
    }
    await this.room();
    if (this.failure) throw this.failure.error;
  }

  /** Sends what is gathered, maxInFlight batches at a time, and waits for every batch; rethrows the first failure. */
  async finish(): Promise<void> {
    for (const fork of [...this.buffers.keys()]) {
      await this.room();
      this.send(fork);
    }
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure.error;
  }

  private async room(): Promise<void> {
    while (this.inFlight.size >= this.maxInFlight && !this.failure) await Promise.race(this.inFlight);
  }

  private add(kind: 0 | 1, key: Buffer, value?: Buffer): void {
    const fork = this.client.map.lookup(key).fork;
    let ops = this.buffers.get(fork);
    if (!ops) this.buffers.set(fork, (ops = new PackedOps()));
    ops.add(kind, key, value);
    this.buffered++;
    if (ops.count >= this.opsPerBatch) this.send(fork);
    // A writer that never calls ready() still holds a bounded number (twice the bound) of ops.
    else if (this.buffered >= 2 * this.maxBuffered) for (const f of [...this.buffers.keys()]) this.send(f);
  }

  private send(fork: string): void {
    const packed = this.buffers.get(fork);
    if (!packed) return;
    this.buffers.delete(fork);
    this.buffered -= packed.count;
    // In routing order (a key's ops keep theirs): B-tree inserts that walk a fork's pages in
    // order, instead of jumping between them, cost the receiving actor less (its row writes were
    // the largest part of the smoothing's store CPU).
    const unsorted = packed.ops();
    const ops = Array.from(inRoutingOrder(unsorted.map((op) => op.key)), (i) => unsorted[i]!);
    const sent: Promise<void> = (this.opts.local?.(ops) ?? this.client.batch(ops)).then(
      () => {
        this.written += ops.length;
        this.opts.onWritten?.(this.written);
      },
      (error: unknown) => void (this.failure ??= { error }),
    );
    const tracked = sent.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }
}
