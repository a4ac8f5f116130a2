// Cut-overs whose outcome this actor does not know: written (fsynced) before a source asks the target to take a
// fork, cleared once the source adopted the result. After a crash, or a cut-over request left unanswered, the fork
// stays fenced here until the target has been asked for the truth, so the source never writes a fork the target may
// already own at the next epoch.
import fs from 'node:fs';
import path from 'node:path';

export interface MoveIntent { moveId: string; fork: string; to: string; epoch: number }

export class MoveIntents {
  private readonly file: string;
  private readonly intents = new Map<string, MoveIntent>();

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'move-intents.json');
    try {
      for (const i of JSON.parse(fs.readFileSync(this.file, 'utf8')) as MoveIntent[]) this.intents.set(i.fork, i);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new Error(`move intents file ${this.file} is unreadable (${(err as Error).message}); if no move was running, delete it`);
      }
    }
  }

  all(): MoveIntent[] { return [...this.intents.values()]; }
  has(fork: string): boolean { return this.intents.has(fork); }

  add(i: MoveIntent): void {
    this.intents.set(i.fork, i);
    this.save();
  }

  remove(fork: string): void {
    if (this.intents.delete(fork)) this.save();
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
