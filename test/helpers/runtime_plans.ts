// Runtime plans over the test stages (runtime_stages/): source_lines -> split_words -> count_ops,
// over real files, with a record sink or the real store sink.
import fs from 'node:fs';
import path from 'node:path';
import type { SinkSpec } from '../../pipeline/runtime/actor_spec.js';
import type { RuntimePlan } from '../../pipeline/runtime/plan.js';
import type { SplitTestConfig } from './runtime_stages/split_words.js';
import { linesWithOffsets } from './runtime_stages/source_lines.js';
import { tempDir } from './temp_dir.js';

const stageUrl = (file: string) => new URL(`./runtime_stages/${file}`, import.meta.url).href;
export const RECORD_SINK_URL = stageUrl('record_sink.js');

export interface TestPlanOptions {
  model: string;
  order: number;
  /** Text files, one input each. */
  inputs: string[];
  batch: number;
  splitWorkers: number;
  countWorkers?: number;
  sink: SinkSpec;
  crash?: SplitTestConfig['crash'];
  delayMs?: number;
  checkpoint?: { file: string; fingerprint: string } | null;
  stallMs?: number;
}

export function testPlan(o: TestPlanOptions): RuntimePlan {
  return {
    name: o.model,
    stages: [
      { name: 'source', workers: 1, module: stageUrl('source_lines.js'), taskModule: null, poolSize: 1, config: { delayMs: o.delayMs ?? 0 }, emits: 'LineBatch', endpoint: null },
      { name: 'split', workers: o.splitWorkers, module: stageUrl('split_words.js'), taskModule: null, poolSize: 1, config: { crash: o.crash }, emits: 'SentenceBatch', endpoint: null },
      {
        name: 'count',
        workers: o.countWorkers ?? 1,
        module: stageUrl('count_ops.js'),
        taskModule: stageUrl('count_tasks.js'),
        poolSize: 1,
        config: { model: o.model, order: o.order },
        emits: null,
        endpoint: null,
      },
    ],
    tasks: o.inputs.map((p, input) => ({ generation: 1, input, path: p, written: path.basename(p), format: 'text', config: null, batch: o.batch, skip: [], only: null })),
    sink: o.sink,
    transport: { kind: 'ipc', dir: null },
    checkpoint: o.checkpoint ?? null,
    stallMs: o.stallMs ?? 10000,
  };
}

export const tmpDir = () => tempDir('dbslm-rt-');

/** What a run over `files` must count: batches (by input and offset) and words, computed here. */
export function expectedBatches(files: string[], batch: number): { batches: Map<string, number>; words: number; lines: number } {
  const batches = new Map<string, number>();
  let words = 0;
  let lines = 0;
  files.forEach((file, input) => {
    const all = linesWithOffsets(fs.readFileSync(file));
    for (let i = 0; i < all.length; i += batch) {
      const part = all.slice(i, i + batch);
      const w = part.reduce((n, l) => n + l.text.split(/[ \t\r\0]+/).filter((x) => x.length > 0).length, 0);
      batches.set(`${input} ${part[0]!.offset}`, w);
      words += w;
      lines += part.length;
    }
  });
  return { batches, words, lines };
}

/** The record sink's deliveries: `INPUT OFFSET` -> times delivered. */
export function deliveries(file: string): Map<string, number> {
  const out = new Map<string, number>();
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [input, offset] = line.split(' ');
    const key = `${input} ${offset}`;
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}
