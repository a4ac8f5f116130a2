// The increment `dbslm store set KEY N --counter` adds: an integer the store can carry exactly.
// Counters travel as safe integers (|n| <= 2^53-1, what a JavaScript number holds exactly), so a
// larger one is refused with the range rather than silently rounded.

const MAX = Number.MAX_SAFE_INTEGER;

export function parseIncrement(text: string): number {
  if (!/^[+-]?\d+$/.test(text)) throw new Error(`--counter needs an integer value, got ${JSON.stringify(text)}`);
  const n = BigInt(text);
  if (n > BigInt(MAX) || n < -BigInt(MAX)) {
    throw new Error(`--counter value ${text} exceeds 2^53-1, the largest increment the store carries exactly; use an integer from -${MAX} to ${MAX}`);
  }
  return Number(n);
}
