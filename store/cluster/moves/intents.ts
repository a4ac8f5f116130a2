// Move decisions whose outcome this actor does not know yet, kept (fsynced) in DATA/move-intents.json, at most one
// per fork:
// - a cut-over intent is written before a source asks the target to take a fork and cleared once the source adopted
//   the result; after a crash, or a cut-over left unanswered, the fork stays fenced here until the target has been
//   asked for the truth, so the source never writes a fork the target may already own at the next epoch;
// - a takeover intent is written before a forced move adopts a dead owner's fork (with the owner it came from) and
//   cleared once a quorum adopted it and a lease period passed; until then the fork stays fenced here, also across a
//   restart. A takeover of many forks writes all its intents in one fsynced write.
import fs from 'node:fs';
import path from 'node:path';
import type { CutOverIntent } from './source_events.js';
import type { TakeoverIntent } from './takeover_machine.js';

export type MoveIntent = CutOverIntent | TakeoverIntent;

export class MoveIntents {
  private readonly file: string;
  private readonly intents = new Map<string, MoveIntent>();

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'move-intents.json');
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

  add(intent: MoveIntent): void {
    this.addAll([intent]);
  }

  /** Many intents, one fsynced write (a takeover of every fork of a dead member). */
  addAll(intents: MoveIntent[]): void {
    for (const intent of intents) this.intents.set(intent.fork, intent);
    this.save();
  }

  remove(fork: string): void {
    this.removeAll([fork]);
  }

  removeAll(forks: string[]): void {
    let removed = false;
    for (const fork of forks) removed = this.intents.delete(fork) || removed;
    if (removed) this.save();
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
  }
}
