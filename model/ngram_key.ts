// A 64-bit key of a word-id sequence, as two 32-bit halves from two independent running hashes.
// The ARPA lexer computes the keys of each record and of its context (arpa_lex.ts) on its own
// thread, so the table builder finds a context by one lookup of its key (context_keys.ts) instead
// of walking the tables from the context's first word.

/** Running state: the two halves before finishing. */
export function keyStep1(h: number, id: number): number {
  h = Math.imul(h ^ id, 0x9e3779b1);
  return (h << 13) | (h >>> 19);
}
export function keyStep2(h: number, id: number): number {
  h = Math.imul(h + id + 0x7f4a7c15, 0x85ebca77);
  return h ^ (h >>> 16);
}
export const KEY_SEED1 = 0x12345679;
export const KEY_SEED2 = 0x2545f491;

/** murmur3's finalizer: every input bit reaches every output bit. */
export function finishKey(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}
