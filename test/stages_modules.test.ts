// The runtime's view of the stages: each module named in STAGE_MODULES loads by URL and builds its
// operator from a StageConfig, and the task module runs in a real piscina pool with the same result
// as the inline compute the other tests use.
import test from 'ava';
import path from 'node:path';
import { Piscina } from 'piscina';
import { countBatchMessage, type CountBatch, type PackedCountBatch } from '../schemas/pipeline.js';
import { STAGE_MODULES, STAGE_TASKS_MODULE } from '../stages/index.js';
import type { Compute } from '../stages/stage.js';
import type { CreateStage, StageConfig } from '../stages/stage_config.js';
import { inlineCompute, runStage, tempFiles } from './helpers/stages.js';

const CONFIG: Omit<StageConfig, 'stage'> = { model: 'm', order: 3, tokenizer: 'whitespace', strict: false, batch: 2, generation: 1 };

async function chain(file: string, compute: Compute): Promise<CountBatch[]> {
  let messages: unknown[] = [{ generation: 1, input: 0, path: file, written: path.basename(file), format: 'text', config: null, batch: 2, skip: [], only: null }];
  for (const stage of ['read', 'split', 'count'] as const) {
    const module = (await import(STAGE_MODULES[stage]!)) as { createStage: CreateStage };
    messages = await runStage(module.createStage({ ...CONFIG, stage }, compute), messages);
  }
  return (messages as PackedCountBatch[]).map(countBatchMessage);
}

const sorted = (batches: CountBatch[]) =>
  [...batches].sort((a, b) => a.offset - b.offset).map((b) => ({ ...b, incrs: b.incrs.map((i) => [i.key.toString('hex'), i.delta]), sets: b.sets.map((k) => k.toString('hex')) }));

test('the stage modules load by name and, on a real piscina pool, count as the inline compute does', async (t) => {
  const dir = tempFiles({ 'c.txt': 'the cat sat\non the mat\nthe cat ran\nthe end\nno newline' });
  const pool = new Piscina({ filename: STAGE_TASKS_MODULE, maxThreads: 2 });
  try {
    const pooled: Compute = (name, input) => pool.run(input, { name });
    const viaPool = await chain(path.join(dir, 'c.txt'), pooled);
    const inline = await chain(path.join(dir, 'c.txt'), inlineCompute);
    t.is(viaPool.length, 3);
    t.true(viaPool.every((b) => b.incrs.every((i) => Buffer.isBuffer(i.key))));
    t.deepEqual(sorted(viaPool), sorted(inline));
  } finally {
    await pool.destroy();
  }
});
