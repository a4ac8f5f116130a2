// Test stage for the runtime (not the real read stage, stages/read.ts): a source that turns a
// ReadTask into LineBatches of `task.batch` lines, offsets being each batch's first byte, honouring
// skip and only. `delayMs` slows it so a test can kill a run halfway.
import fs from 'node:fs';
import { from, mergeMap } from 'rxjs';
import type { LineBatch, ReadTask } from '../../../schemas/pipeline.js';
import type { Stage } from '../../../stages/stage.js';

export function linesWithOffsets(text: Buffer): { offset: number; text: string }[] {
  const out: { offset: number; text: string }[] = [];
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf(10, start);
    if (end < 0) end = text.length;
    out.push({ offset: start, text: text.toString('utf8', start, end) });
    start = end + 1;
  }
  return out;
}

async function* batches(task: ReadTask, delayMs: number): AsyncGenerator<LineBatch> {
  const lines = linesWithOffsets(fs.readFileSync(task.path));
  for (let i = 0; i < lines.length; i += task.batch) {
    const part = lines.slice(i, i + task.batch);
    const offset = part[0]!.offset;
    if (task.skip.includes(offset) || (task.only !== null && !task.only.includes(offset))) continue;
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    yield {
      generation: task.generation,
      input: task.input,
      offset,
      file: task.written,
      format: 'text',
      config: null,
      lines: part.map((l, j) => ({ offset: l.offset, line: i + j + 1, text: l.text })),
      lastUnterminated: false,
      bad: [],
    };
  }
}

export function createStage(config: { delayMs?: number }): Stage<ReadTask, LineBatch> {
  return mergeMap((task: ReadTask) => from(batches(task, config.delayMs ?? 0)));
}
