// The loop behind ForkDb's multi-row writes (setMany, incrMany): one statement call per ROWS
// (key, value) pairs, its arguments laid out key, value, key, value ..., then one call per
// remaining pair. Each call says whether to go on (an increment that met bytes stops the batch).

/** Pairs per multi-row statement (measured: 16 to 256 all within a few % of 64). */
export const ROWS = 64;

export function runInRowChunks<V>(
  keys: readonly Buffer[],
  values: readonly V[],
  chunk: (args: (Buffer | V)[]) => boolean,
  single: (key: Buffer, value: V) => boolean,
): boolean {
  const n = keys.length;
  let i = 0;
  const args = new Array<Buffer | V>(2 * ROWS);
  for (; i + ROWS <= n; i += ROWS) {
    for (let j = 0; j < ROWS; j++) {
      args[2 * j] = keys[i + j]!;
      args[2 * j + 1] = values[i + j]!;
    }
    if (!chunk(args)) return false;
  }
  for (; i < n; i++) if (!single(keys[i]!, values[i]!)) return false;
  return true;
}
