// The checkpoint of a run: which batches are committed, so that running the same command again
// after the coordinator died reads only the rest (read tasks get them as `skip`).
//
// One file per pipeline: its first line is a header with the definition's fingerprint (the inputs
// with their sizes and mtimes, the order, the tokenizer, the batch size: whatever changes batch
// offsets or their counts); then one line `INPUT OFFSET` per acked batch, appended as acks come.
// A torn last line (the coordinator killed mid-write) is ignored: that batch is re-read and the
// store applies it once (batchProducer). A different fingerprint means a different run: the file
// is started afresh. The file lives in the store's data directory (spawned store), or beside the
// ARPA export or the YAML file (a joined store): see plan.ts checkpointPath.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface FingerprintInput {
  path: string;
  input: number;
}

/** A stable hash of what decides a run's batches; files are identified by path, size and mtime. */
export function fingerprint(inputs: readonly FingerprintInput[], settings: Record<string, unknown>): string {
  const files = inputs.map(({ path: p, input }) => {
    if (p === '-') return { input, path: p, size: -1, mtime: -1 };
    const st = fs.statSync(p);
    return { input, path: p, size: st.size, mtime: st.mtimeMs };
  });
  return crypto.createHash('sha256').update(JSON.stringify({ files, settings })).digest('hex').slice(0, 32);
}

export interface LoadedCheckpoint {
  /** Acked offsets by input, from a previous run of the same fingerprint (empty otherwise). */
  committed: Map<number, number[]>;
  /** Batches committed before this run. */
  batches: number;
  /** The file ended in a partial line (the coordinator was killed while writing it). */
  torn?: boolean;
  /** Why an existing checkpoint was not used (another fingerprint, unreadable header); null otherwise. */
  discarded: string | null;
}

export class Checkpoint {
  private fd: number | null = null;

  constructor(
    readonly file: string,
    readonly fingerprint: string,
  ) {}

  /** Reads what an earlier run of the same fingerprint committed, then opens the file for appending (a fresh one if it did not match). */
  open(): LoadedCheckpoint {
    const loaded = this.read();
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    if (loaded.batches === 0) fs.writeFileSync(this.file, `${JSON.stringify({ checkpoint: 1, fingerprint: this.fingerprint })}\n`);
    this.fd = fs.openSync(this.file, 'a');
    // A torn last line is ended as a line no reader takes (it may be a prefix of `0 800`: `0 8`), so the next is not glued onto it.
    if (loaded.torn) fs.writeSync(this.fd, ' torn\n');
    return loaded;
  }

  /** What an earlier run committed, without opening the file for writing (nothing is changed). */
  peek(): LoadedCheckpoint {
    return this.read();
  }

  private read(): LoadedCheckpoint {
    const committed = new Map<number, number[]>();
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch {
      return { committed, batches: 0, discarded: null };
    }
    const lines = text.split('\n');
    let header: { fingerprint?: string } | null = null;
    try {
      header = JSON.parse(lines[0] ?? '') as { fingerprint?: string };
    } catch {
      return { committed, batches: 0, discarded: `checkpoint ${this.file} has no readable header: starting afresh` };
    }
    if (header?.fingerprint !== this.fingerprint) {
      return { committed, batches: 0, discarded: `checkpoint ${this.file} is of another run (inputs, sizes, order, tokenizer or batch differ): starting afresh` };
    }
    let batches = 0;
    // Only newline-terminated lines count: the last piece is empty or torn.
    for (const line of lines.slice(1, -1)) {
      const m = /^(\d+) (\d+)$/.exec(line);
      if (!m) continue;
      const input = Number(m[1]);
      let list = committed.get(input);
      if (!list) committed.set(input, (list = []));
      list.push(Number(m[2]));
      batches++;
    }
    return { committed, batches, discarded: null, ...(text.endsWith('\n') ? {} : { torn: true }) };
  }

  /** Records a committed batch (called once per batch, on its first ack). */
  append(input: number, offset: number): void {
    if (this.fd === null) throw new Error('checkpoint not opened');
    fs.writeSync(this.fd, `${input} ${offset}\n`);
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

/**
 * A run's checkpoint opened, if its plan names one (null: nothing to resume from, nothing
 * recorded), with what the user should hear about it: an old one discarded, or batches skipped.
 */
export function openRunCheckpoint(where: { file: string; fingerprint: string } | null, notice: (line: string) => void): { checkpoint: Checkpoint | null; loaded: LoadedCheckpoint } {
  if (!where) return { checkpoint: null, loaded: { committed: new Map(), batches: 0, discarded: null } };
  const checkpoint = new Checkpoint(where.file, where.fingerprint);
  const loaded = checkpoint.open();
  if (loaded.discarded) notice(loaded.discarded);
  if (loaded.batches > 0) notice(`resuming: ${loaded.batches} batches committed by an earlier run are skipped (checkpoint ${where.file})`);
  return { checkpoint, loaded };
}
