// The loop behind ForkDb's multi-row writes (setMany, incrMany): one statement call per ROWS
// (key, value) pairs, its arguments laid out key, value, key, value ..., then the remaining pairs
// in statements of 32, 16, 8, 4 and 2 rows, and one call for a last single pair. Each call says
// whether to go on (an increment that met bytes stops the batch).
//
// The remainder goes in smaller multi-row statements, not one call per pair: a replicated fork's
// increments run per fork (incr_queue.ts), so each fork of a group commit leaves a remainder, and
// at R = 2 those single-row calls were 15% of the owner's CPU (more than the 64-row statements).

/** Pairs per multi-row statement (measured: 16 to 256 all within a few % of 64). */
export const ROWS = 64;
/** Smaller statements for what is left after the ROWS-row ones, largest first. */
const REMAINDER_ROWS = [32, 16, 8, 4, 2];

export function runInRowChunks<V>(
  keys: readonly Buffer[],
  values: readonly V[],
  /** One statement of `rows` pairs (ROWS or one of the remainder sizes). */
  chunk: (args: (Buffer | V)[], rows: number) => boolean,
  single: (key: Buffer, value: V) => boolean,
): boolean {
  const n = keys.length;
  let i = 0;
  for (const rows of [ROWS, ...REMAINDER_ROWS]) {
    if (i + rows > n) continue;
    const args = new Array<Buffer | V>(2 * rows);
    for (; i + rows <= n; i += rows) {
      for (let j = 0; j < rows; j++) {
        args[2 * j] = keys[i + j]!;
        args[2 * j + 1] = values[i + j]!;
      }
      if (!chunk(args, rows)) return false;
    }
  }
  for (; i < n; i++) if (!single(keys[i]!, values[i]!)) return false;
  return true;
}
