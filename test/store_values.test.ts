// Wire values from a peer (move chunks) are the sender's data: one that is no value is a
// BAD_REQUEST, never an INTERNAL error.
import test from 'ava';
import { StoreError } from '../store/protocol/errors.js';
import { storedToWire, wireToStored } from '../store/protocol/values.js';

test('wire values round-trip; an unknown kind or a counter of the wrong size is BAD_REQUEST', (t) => {
  for (const v of [undefined, Buffer.from('x'), 42n, -(2n ** 63n)]) t.deepEqual(wireToStored(storedToWire(v)), v);
  for (const bad of [{ kind: 9, data: Buffer.alloc(0) }, { kind: 4096, data: Buffer.alloc(8) }, { kind: 2, data: Buffer.alloc(7) }]) {
    const err = t.throws(() => wireToStored(bad), { instanceOf: StoreError });
    t.is(err?.code, 'BAD_REQUEST');
  }
});
