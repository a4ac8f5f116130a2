// Typed arrays on SharedArrayBuffers, for the arrays of a build that the ARPA writer's second
// thread reads (cli/io/arpa_parallel.ts): the model's log10 p and backoffs, each node's order,
// and where counting saw each n-gram (NgramPaths). Shared, they reach the thread as they are;
// posting an ordinary typed array clones its whole buffer (~45 MB at KJV order 5, ~40 ms of
// copying and first touches). V8 also leaves a SharedArrayBuffer's memory out of the external
// memory that starts garbage collections. Elsewhere they behave as any typed array.
export const sharedInt32 = (length: number): Int32Array => new Int32Array(new SharedArrayBuffer(length * 4));
export const sharedFloat64 = (length: number): Float64Array => new Float64Array(new SharedArrayBuffer(length * 8));
export const sharedUint8 = (length: number): Uint8Array => new Uint8Array(new SharedArrayBuffer(length));

/** A copy of `a` in a zeroed shared array of `length`. */
export function growSharedInt32(a: Int32Array, length: number): Int32Array {
  const b = sharedInt32(length);
  b.set(a.subarray(0, Math.min(a.length, length)));
  return b;
}

/** `a` itself when its memory is shared already, else a shared copy (to pass to another thread without cloning it). */
export function asShared<T extends Int32Array | Float64Array | Uint8Array>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const Kind = a.constructor as new (buffer: SharedArrayBuffer) => T;
  const b = new Kind(new SharedArrayBuffer(a.byteLength));
  b.set(a as never);
  return b;
}

/** The buffers of `arrays` that a postMessage can move (a shared one is shared by the message itself, and refused in a transfer list). */
export function movableBuffers(arrays: readonly ArrayBufferView[]): ArrayBuffer[] {
  return [...new Set(arrays.map((a) => a.buffer))].filter((b): b is ArrayBuffer => !(b instanceof SharedArrayBuffer));
}
