// Stored values on the wire: missing, bytes, or a signed 64-bit counter.
import { avroType } from './command.js';

/** Value kinds: 0 = missing, 1 = bytes, 2 = signed 64-bit counter (data = 8 bytes little-endian). */
export const VALUE_MISSING = 0;
export const VALUE_BYTES = 1;
export const VALUE_COUNTER = 2;
/**
 * Only in a replication stream's chunks (store/actor/change_log.ts), never stored nor sent by clients: an increment
 * of a counter by `data` (8 bytes little-endian), applied once onto the state the owner applied it to.
 */
export const VALUE_DELTA = 3;
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
