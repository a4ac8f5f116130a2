// Writing a model of the store as an ARPA file (`dbslm export`, the pipeline's `export.arpa`):
// store/model/arpa_export.ts streams it, sorted in runs beside the target when it is large
// (not in the system's temporary directory, which may be a tmpfs held in memory), and the file
// appears whole or not at all (atomic_file.ts).
import path from 'node:path';
import type { ModelMeta } from '../../schemas/model_meta.js';
import type { StoreClient } from '../../store/client/client.js';
import { exportArpa } from '../../store/model/arpa_export.js';
import { writeFileAtomic } from './atomic_file.js';

export interface StoreArpaOptions {
  /** The store as the user named it, for messages. */
  where: string;
  onPhase?: (phase: string) => void;
  onProgress?: (done: number, total: number) => void;
  warn?: (message: string) => void;
  /** Records held in memory (arpa_export.ts EXPORT_MEMORY_BYTES by default). */
  memoryBytes?: number;
}

/** Writes model `model` to `target`; its meta, entries per order (index 0 unused) and bytes written. */
export async function writeStoreArpa(client: StoreClient, model: string, target: string, opts: StoreArpaOptions): Promise<{ meta: ModelMeta; counts: number[]; bytes: number; runs: number }> {
  const spillDir = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.runs`);
  opts.onPhase?.(`reading model ${model} from ${opts.where}`);
  const exported = await exportArpa(client, model, { where: opts.where, spillDir, memoryBytes: opts.memoryBytes, onProgress: opts.onProgress, warn: opts.warn });
  try {
    opts.onPhase?.(`writing ${target}`);
    const bytes = writeFileAtomic(target, exported.chunks());
    return { meta: exported.meta, counts: exported.counts, bytes, runs: exported.runs };
  } finally {
    exported.dispose();
  }
}
