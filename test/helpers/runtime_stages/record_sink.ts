// Test sink for the runtime: appends `INPUT OFFSET WORDS` per written batch to a file, so a test
// sees every delivery (duplicates included), not only the coordinator's deduplicated acks.
import fs from 'node:fs';
import type { Sink } from '../../../pipeline/runtime/store_sink.js';

export function createSink(config: { file: string }): Sink {
  return {
    async write(out: unknown): Promise<void> {
      const b = out as { input: number; offset: number; words: number };
      fs.appendFileSync(config.file, `${b.input} ${b.offset} ${b.words}\n`);
    },
    close: () => undefined,
  };
}
