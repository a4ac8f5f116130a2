// Stored values on the wire: missing, bytes, or a signed 64-bit counter.
import { avroType } from './command.js';

/** Value kinds: 0 = missing, 1 = bytes, 2 = signed 64-bit counter (data = 8 bytes little-endian). */
export const VALUE_MISSING = 0;
export const VALUE_BYTES = 1;
export const VALUE_COUNTER = 2;
export interface WireValue {
  kind: number;
  data: Buffer;
}
export const WireValueType = avroType({
  type: 'record',
  name: 'dbslm.store.Value',
  fields: [
    { name: 'kind', type: 'int' },
    { name: 'data', type: 'bytes' },
  ],
});
