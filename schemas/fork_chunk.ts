// One chunk of a fork's data, as its owner exports it and its next owner imports it: rows with
// their final values (kind 0 is a deletion), and the exactly-once dedup records that move with them.
import { avroType } from './command.js';

export interface ChunkEntry {
  key: Buffer;
  kind: number;
  data: Buffer;
}
export interface DedupRecord {
  producer: string;
  seq: number;
  anchor: Buffer;
}
export interface ForkChunk {
  fork: string;
  entries: ChunkEntry[];
  dedup: DedupRecord[];
  /** Cursor: the last key in `entries` (empty when the chunk holds no entries). */
  last: Buffer;
  done: boolean;
}
export const ForkChunkType = avroType({
  type: 'record',
  name: 'dbslm.store.ForkChunk',
  fields: [
    { name: 'fork', type: 'string' },
    {
      name: 'entries',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'dbslm.store.ChunkEntry',
          fields: [
            { name: 'key', type: 'bytes' },
            { name: 'kind', type: 'int' },
            { name: 'data', type: 'bytes' },
          ],
        },
      },
    },
    {
      name: 'dedup',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'dbslm.store.DedupRecord',
          fields: [
            { name: 'producer', type: 'string' },
            { name: 'seq', type: 'long' },
            { name: 'anchor', type: 'bytes' },
          ],
        },
      },
    },
    { name: 'last', type: 'bytes' },
    { name: 'done', type: 'boolean' },
  ],
});
