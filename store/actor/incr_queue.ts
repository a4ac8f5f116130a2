// Batches of increments and marks (OP_MARK) of one group commit, applied together in key order.
//
// Random-order UPSERTs into SQLite's B-tree cost about twice as much as the same UPSERTs sorted by
// key, and the counting stage sends exactly such batches. So the actor queues each batch of
// increments and marks (after validating it) instead of applying it at once, and before anything
// else touches the database (any other request, a commit, an export) it applies the whole queue:
// deltas summed per key and marks deduplicated, each in key order, under one savepoint, with every
// batch's dedup record. Increments and marks of different keys commute, and so do increments of one
// key and marks of one key; an increment and a mark of the same key do not (which comes first
// decides whether the key ends a counter or bytes), so such a queue, like one that fails (a key
// holds bytes, a sum leaves the safe range), is applied batch by batch in arrival order, each under
// its own savepoint, so only the bad ones fail, exactly as without the queue. Replies are still
// sent only after the commit.
import type { ForkDb } from './fork_db.js';

export interface QueuedBatch {
  producer: string;
  seq: number;
  anchor: Buffer;
  keys: Buffer[];
  deltas: number[];
  /** Keys to mark (created with the empty value unless they exist). */
  marks: Buffer[];
  /** Called once applied (err null) or refused; several if the batch was redelivered meanwhile. */
  done: ((err: unknown) => void)[];
}

export class IncrQueue {
  private batches: QueuedBatch[] = [];
  private readonly byId = new Map<string, QueuedBatch>();

  constructor(private readonly db: ForkDb) {}

  get size(): number {
    return this.batches.length;
  }

  /** The queued batch with this (producer, seq), if any (a redelivery waits for its outcome). */
  get(producer: string, seq: number): QueuedBatch | undefined {
    return this.byId.get(`${producer}\0${seq}`);
  }

  add(batch: QueuedBatch): void {
    this.batches.push(batch);
    this.byId.set(`${batch.producer}\0${batch.seq}`, batch);
  }

  /** Apply every queued batch inside the open transaction, then report each outcome. */
  flush(): void {
    if (!this.batches.length) return;
    const batches = this.batches;
    this.batches = [];
    this.byId.clear();
    if (this.applyAll(batches)) {
      for (const batch of batches) for (const done of batch.done) done(null);
      return;
    }
    for (const batch of batches) {
      let failure: unknown = null;
      try {
        this.db.atomic(() => {
          for (let i = 0; i < batch.keys.length; i++) this.db.incr(batch.keys[i]!, batch.deltas[i]!);
          for (const key of batch.marks) this.db.mark(key);
          this.db.dedupRecord(batch.producer, batch.seq, batch.anchor);
        });
      } catch (err) {
        failure = err;
      }
      for (const done of batch.done) done(failure);
    }
  }

  private applyAll(batches: QueuedBatch[]): boolean {
    // Sum per key under its latin1 string (byte order = string order), then sort the strings with
    // `<`: several times cheaper than sorting Buffers with Buffer.compare (a native call per comparison).
    const index = new Map<string, number>();
    const names: string[] = [];
    const keys: Buffer[] = [];
    const deltas: number[] = [];
    for (const batch of batches) {
      for (let i = 0; i < batch.keys.length; i++) {
        const key = batch.keys[i]!;
        const name = key.toString('latin1');
        const at = index.get(name);
        if (at === undefined) {
          index.set(name, keys.length);
          names.push(name);
          keys.push(key);
          deltas.push(batch.deltas[i]!);
        } else deltas[at]! += batch.deltas[i]!;
      }
    }
    const marks = new Map<string, Buffer>();
    for (const batch of batches) {
      for (const key of batch.marks) {
        const name = key.toString('latin1');
        if (index.has(name)) return false; // a key both marked and increased: arrival order decides
        marks.set(name, key);
      }
    }
    const order = names.map((_, i) => i).sort((x, y) => (names[x]! < names[y]! ? -1 : 1));
    const sortedKeys = order.map((i) => keys[i]!);
    const sortedDeltas = order.map((i) => deltas[i]!);
    for (const delta of sortedDeltas) if (!Number.isSafeInteger(delta)) return false; // redone batch by batch: only the bad one fails
    const markNames = [...marks.keys()].sort();
    const sortedMarks = markNames.map((name) => marks.get(name)!);
    try {
      return this.db.atomic(() => {
        if (!this.db.incrMany(sortedKeys, sortedDeltas)) throw new Error('a key holds bytes');
        this.db.markMany(sortedMarks);
        for (const batch of batches) this.db.dedupRecord(batch.producer, batch.seq, batch.anchor);
        return true;
      });
    } catch {
      return false;
    }
  }
}
