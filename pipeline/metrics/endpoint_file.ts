// Where `dbslm metrics tail` finds a running pipeline's metrics when it is not given --connect: the
// coordinator records its hub's tail endpoint (and Prometheus URL) in out/.dbslm-metrics under the
// directory it was started from, and tail reads the same file under its own working directory. So
// `dbslm pipeline run X.yaml` in one terminal and `dbslm metrics tail` in another, in the same
// directory, find each other; the file is overwritten by the next run (the last run wins).
// `pipeline tap` finds the stages' tap endpoints in the same record.
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../../model/errors.js';
import { writeFileAtomic } from '../../cli/io/atomic_file.js';

/** The file, relative to the working directory. */
export const METRICS_FILE = path.join('out', '.dbslm-metrics');

export interface MetricsEndpointRecord {
  pipeline: string;
  /** Where the hub publishes its merged view (`metrics tail --connect`). */
  tail: string;
  /** Where stage actors publish their snapshots. */
  endpoint: string;
  /** http://127.0.0.1:PORT/metrics, or null without metrics.port. */
  prometheus: string | null;
  pid: number;
  startedAt: string;
  /** Each stage's tap endpoints, one per worker (`pipeline tap`); absent until the stage actors are planned. */
  taps?: Record<string, string[]>;
}

export function defaultMetricsFile(cwd = process.cwd()): string {
  return path.join(cwd, METRICS_FILE);
}

export function writeMetricsFile(file: string, record: MetricsEndpointRecord): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, [`${JSON.stringify(record)}\n`]);
}

/** The record in `file`; an InputError saying what to do when there is none or it is not one. */
export function readMetricsFile(file: string): MetricsEndpointRecord {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') {
      throw new InputError(`no --connect given and no ${file}: it is written by a pipeline run started in this directory; run tail there, or pass --connect with the endpoint the run printed`);
    }
    throw new InputError(`cannot read ${file}: ${e.message}`);
  }
  let record: Partial<MetricsEndpointRecord>;
  try {
    record = JSON.parse(text) as Partial<MetricsEndpointRecord>;
  } catch (err) {
    throw new InputError(`${file}:1: not a metrics endpoint record (${(err as Error).message}); delete it, or pass --connect`);
  }
  if (typeof record?.tail !== 'string' || !record.tail) throw new InputError(`${file}:1 tail: no endpoint string in the metrics endpoint record; delete the file, or pass --connect`);
  return record as MetricsEndpointRecord;
}
