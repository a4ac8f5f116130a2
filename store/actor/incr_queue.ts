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
//
// A watched fork (replicated, or being moved: change_log.ts) needs each change noted. Its keys go
// through the same sorted multi-row statements, run per fork so each note names its fork: plain
// ones noting each key's summed delta when every watcher takes deltas (a replica: change_log.ts),
// else ones with `RETURNING` (the new totals, and the keys a mark created). Whether a fork is
// watched, and how, is decided when the queue is applied, so a watch that began or ended meanwhile
// is followed.
import type { ChangeLog } from './change_log.js';
import type { ForkDb } from './fork_db.js';

const EMPTY = Buffer.alloc(0);

export interface QueuedBatch {
  producer: string;
  seq: number;
  /** The fork every key of the batch lies in. */
  fork: string;
  anchor: Buffer;
  keys: Buffer[];
  deltas: number[];
  /** Keys to mark (created with the empty value unless they exist). */
  marks: Buffer[];
  /** Called once applied (err null) or refused; several if the batch was redelivered meanwhile. */
  done: ((err: unknown) => void)[];
}

/** Sorted keys (with deltas) of one watched fork, or of every unwatched one (fork null). */
interface Run {
  fork: string | null;
  keys: Buffer[];
  deltas: number[];
  marks: Buffer[];
}

export class IncrQueue {
  private batches: QueuedBatch[] = [];
  private readonly byId = new Map<string, QueuedBatch>();

  constructor(
    private readonly db: ForkDb,
    private readonly changeLog: ChangeLog,
  ) {}

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
    const { db, changeLog } = this;
    for (const batch of batches) {
      let failure: unknown = null;
      const noted = changeLog.isWatched(batch.fork);
      try {
        changeLog.atomic(db, () => {
          const totals = noted && changeLog.wantsTotals(batch.fork);
          for (let i = 0; i < batch.keys.length; i++) {
            if (totals) changeLog.note(batch.fork, batch.keys[i]!, db.incrGet(batch.keys[i]!, batch.deltas[i]!));
            else {
              db.incr(batch.keys[i]!, batch.deltas[i]!);
              if (noted) changeLog.noteDelta(batch.fork, batch.keys[i]!, batch.deltas[i]!);
            }
          }
          for (const key of batch.marks) if (db.mark(key)) changeLog.note(batch.fork, key, EMPTY);
          db.dedupRecord(batch.producer, batch.seq, batch.anchor);
          changeLog.noteDedup(batch.fork, batch.producer, batch.seq, batch.anchor);
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
    // One run for the unwatched forks' keys, one per watched fork (looked up once per batch).
    const runs = new Map<string | null, Run>();
    const runOf = (fork: string) => {
      const id = this.changeLog.isWatched(fork) ? fork : null;
      let run = runs.get(id);
      if (!run) runs.set(id, (run = { fork: id, keys: [], deltas: [], marks: [] }));
      return run;
    };
    const batchRuns = batches.map((batch) => runOf(batch.fork));
    const keyRuns: Run[] = [];
    for (let b = 0; b < batches.length; b++) {
      const batch = batches[b]!;
      for (let i = 0; i < batch.keys.length; i++) {
        const key = batch.keys[i]!;
        const name = key.toString('latin1');
        const at = index.get(name);
        if (at === undefined) {
          index.set(name, keys.length);
          names.push(name);
          keys.push(key);
          deltas.push(batch.deltas[i]!);
          keyRuns.push(batchRuns[b]!);
        } else deltas[at]! += batch.deltas[i]!;
      }
    }
    const marks = new Map<string, { key: Buffer; run: Run }>();
    for (let b = 0; b < batches.length; b++) {
      for (const key of batches[b]!.marks) {
        const name = key.toString('latin1');
        if (index.has(name)) return false; // a key both marked and increased: arrival order decides
        marks.set(name, { key, run: batchRuns[b]! });
      }
    }
    const order = names.map((_, i) => i).sort((x, y) => (names[x]! < names[y]! ? -1 : 1));
    for (const i of order) if (!Number.isSafeInteger(deltas[i]!)) return false; // redone batch by batch: only the bad one fails
    // Each run in key order.
    for (const i of order) {
      const run = keyRuns[i]!;
      run.keys.push(keys[i]!);
      run.deltas.push(deltas[i]!);
    }
    for (const name of [...marks.keys()].sort()) {
      const { key, run } = marks.get(name)!;
      run.marks.push(key);
    }
    const { db, changeLog } = this;
    try {
      return changeLog.atomic(db, () => {
        for (const run of runs.values()) {
          const fork = run.fork;
          if (run.keys.length && !db.incrMany(run.keys, run.deltas, fork === null || !changeLog.wantsTotals(fork) ? undefined : (key, total) => changeLog.note(fork, key, total))) throw new Error('a key holds bytes');
          if (fork !== null && !changeLog.wantsTotals(fork)) for (let i = 0; i < run.keys.length; i++) changeLog.noteDelta(fork, run.keys[i]!, run.deltas[i]!);
          if (run.marks.length) db.markMany(run.marks, fork === null ? undefined : (key) => changeLog.note(fork, key, EMPTY));
        }
        for (const batch of batches) {
          db.dedupRecord(batch.producer, batch.seq, batch.anchor);
          changeLog.noteDedup(batch.fork, batch.producer, batch.seq, batch.anchor);
        }
        return true;
      });
    } catch {
      return false;
    }
  }
}
