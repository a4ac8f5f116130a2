// The row count and a digest of a fork's rows, which the source and the target of a move compare before the
// cut-over: the target must hold exactly the rows the source holds (same keys, kinds and values), or the move is
// not cut over. Rows are digested in key order, each as len(key) | key | kind | len(data) | data, so a lost, extra
// or different row changes the digest. Dedup records are left out: the source may prune its own during the move.
import { createHash, type Hash } from 'node:crypto';
import type { StoreActor } from '../../actor/actor.js';
import { storedToWire } from '../../protocol/values.js';

export interface ForkDigest {
  rows: number;
  digest: string;
}

export interface DigestRow {
  key: Buffer;
  kind: number;
  data: Buffer;
}

export class RowDigest {
  private readonly hash: Hash = createHash('sha256');
  private rows = 0;
  private readonly header = Buffer.alloc(9);

  /** Rows must come in key order. */
  add(row: DigestRow): void {
    this.header.writeUInt32BE(row.key.length, 0);
    this.hash.update(this.header.subarray(0, 4));
    this.hash.update(row.key);
    this.header.writeUInt8(row.kind, 4);
    this.header.writeUInt32BE(row.data.length, 5);
    this.hash.update(this.header.subarray(4, 9));
    this.hash.update(row.data);
    this.rows++;
  }

  result(): ForkDigest {
    return { rows: this.rows, digest: this.hash.digest('hex') };
  }
}

/** Digests rows in key order, giving the event loop a turn every `rowsPerTurn` rows (a fork may hold millions). */
export async function digestRows(rows: Iterable<DigestRow>, rowsPerTurn = 4096): Promise<ForkDigest> {
  const digest = new RowDigest();
  let n = 0;
  for (const row of rows) {
    digest.add(row);
    if (++n % rowsPerTurn === 0) await new Promise((r) => setImmediate(r));
  }
  return digest.result();
}

/** The digest of the rows an actor holds of a fork, read through its database in key order. */
export function digestOfFork(actor: StoreActor, fork: string): Promise<ForkDigest> {
  return digestRows(wireRows(actor.db.iterate(Buffer.from(fork, 'hex'))));
}

function* wireRows(rows: Iterable<{ key: Buffer; value: Buffer | bigint }>): Generator<DigestRow> {
  for (const row of rows) yield { key: row.key, ...storedToWire(row.value) };
}
