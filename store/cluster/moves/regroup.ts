// How a move cuts what it sends into messages: commit-ordered ForkChunks (an export page, or the changes of some
// commits) regrouped into messages of at most `rows` rows and about `bytes` bytes, so one row of a maximal value
// still fits the actor's 64 MiB frame limit. Order is kept, so later rows win on import.
import type { ForkChunk } from '../../../schemas/fork_chunk.js';

const EMPTY = Buffer.alloc(0);

export interface MessageLimits {
  rows: number;
  bytes: number;
}

/**
 * Every input chunk yields at least one message (possibly empty), so the first message of a move exists even for
 * an empty fork: its arrival is what tells the target to clear leftovers of an earlier import.
 */
export function regroup(fork: string, chunks: ForkChunk[], limits: MessageLimits): ForkChunk[] {
  const out: ForkChunk[] = [];
  let current: ForkChunk | null = null;
  let bytes = 0;
  const fresh = (): ForkChunk => {
    current = { fork, entries: [], dedup: [], last: EMPTY, done: false };
    out.push(current);
    bytes = 0;
    return current;
  };
  for (const chunk of chunks) {
    (current ?? fresh()).dedup.push(...chunk.dedup);
    for (const entry of chunk.entries) {
      const size = entry.key.length + entry.data.length + 16;
      let message: ForkChunk = current ?? fresh();
      if (message.entries.length >= limits.rows || (bytes > 0 && bytes + size > limits.bytes)) message = fresh();
      message.entries.push(entry);
      bytes += size;
    }
  }
  return out;
}

export function rowsIn(chunks: ForkChunk[]): number {
  return chunks.reduce((n, c) => n + c.entries.length, 0);
}
