// Move decisions whose outcome this actor does not know yet, kept (fsynced) in DATA/move-intents.json, at most one
// per fork:
// - a cut-over intent is written before a source asks the target to take a fork and cleared once the source adopted
//   the result; after a crash, or a cut-over left unanswered, the fork stays fenced here until the target has been
//   asked for the truth, so the source never writes a fork the target may already own at the next epoch;
// - a takeover intent is written before a forced move adopts a dead owner's fork (with the owner it came from) and
//   cleared once a quorum adopted it and a lease period passed; until then the fork stays fenced here, also across a
//   restart. A takeover of many forks writes all its intents in one fsynced write.
// When the file cannot be written (a full disk): an intent not written is not kept, so no decision rests on it and
// nothing waits to clear it; a clear not written is done in memory (the outcome is known, the fork goes on) and the
// write is retried until it succeeds, since an intent left on disk only makes a restart ask again what is known.
import fs from 'node:fs';
import path from 'node:path';
import type { CutOverIntent } from './source_events.js';
import type { TakeoverIntent } from './takeover_machine.js';

export type MoveIntent = CutOverIntent | TakeoverIntent;

export interface MoveIntentsOptions {
  /** How often a clear that could not be written is tried again. */
  retryMs?: number;
}

export class MoveIntents {
  private readonly file: string;
  private readonly intents = new Map<string, MoveIntent>();
  private readonly retryMs: number;
  /** The file holds intents already cleared here; set while its write keeps failing. */
  private retry: NodeJS.Timeout | null = null;
  /** The last write failed (said once, not at every retry). */
  private failing = false;

  constructor(dataDir: string, opts: MoveIntentsOptions = {}) {
    this.file = path.join(dataDir, 'move-intents.json');
    this.retryMs = opts.retryMs ?? 1000;
    try {
      for (const raw of JSON.parse(fs.readFileSync(this.file, 'utf8')) as MoveIntent[]) {
        // Files written before takeovers had intents hold cut-over intents without a kind.
        const intent = { ...raw, kind: raw.kind ?? 'cut-over' } as MoveIntent;
        this.intents.set(intent.fork, intent);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new Error(`move intents file ${this.file} is unreadable (${(err as Error).message}); if no move was running, delete it`);
      }
    }
  }

  all(): MoveIntent[] {
    return [...this.intents.values()];
  }
  get(fork: string): MoveIntent | undefined {
    return this.intents.get(fork);
  }

  /** Durable once it returns; throws (keeping what was there before) if the file cannot be written. */
  add(intent: MoveIntent): void {
    this.addAll([intent]);
  }

  /** Many intents, one fsynced write (a takeover of every fork of a dead member); none is kept if the write fails. */
  addAll(intents: MoveIntent[]): void {
    const before = new Map(this.intents);
    for (const intent of intents) this.intents.set(intent.fork, intent);
    try {
      this.save();
    } catch (err) {
      this.intents.clear();
      for (const [fork, intent] of before) this.intents.set(fork, intent);
      throw err;
    }
  }

  remove(fork: string): void {
    this.removeAll([fork]);
  }

  /** Never throws: a failed write is retried every retryMs until one succeeds. */
  removeAll(forks: string[]): void {
    let removed = false;
    for (const fork of forks) removed = this.intents.delete(fork) || removed;
    if (removed) this.saveOrRetry();
  }

  /** Stops retrying a failed write (the actor is closing). */
  close(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
  }

  private saveOrRetry(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    try {
      this.save();
    } catch (err) {
      if (!this.failing) console.error(`move intents: cannot write ${this.file} (${(err as Error).message}); retrying every ${this.retryMs} ms`);
      this.failing = true;
      this.retry = setTimeout(() => this.saveOrRetry(), this.retryMs).unref();
    }
  }

  private save(): void {
    const tmp = `${this.file}.tmp`;
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, JSON.stringify(this.all()));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file);
    // The file now says what memory says: a retry of an earlier failed write has nothing left to do.
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.failing = false;
  }
}
