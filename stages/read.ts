// Stage `read`: ReadTask -> LineBatch. Streams one input file and emits its lines in batches of
// `task.batch` lines, each line with its byte offset and 1-based number. Batch k holds lines
// k*batch .. (k+1)*batch-1 whatever they contain, so the same file and batch size always give the
// same batch offsets (a batch's offset is its first line's): that is what lets a resumed run skip
// the batches already committed (`skip`) and a crash redeliver exactly the lost ones (`only`).
//
// A line that is not valid UTF-8 is not emitted: it goes into the batch's `bad`, as `file:line`
// with the reason (split decides whether that stops the run, with `strict`). A missing or
// unreadable file is an Observable error naming it.
//
// Memory: the file is read in 64 KiB chunks through an async generator (readBatches) that reads
// only when pulled. `from()` over it pulls as fast as the subscriber takes values, so before each
// new batch it waits for `room` (the runtime's Compute.room: the actor's queue of batches waiting
// for credits has room); without it, a corpus 10 times KJV's sat whole in the read actor (150 MB)
// waiting for credits. A redelivery (`only`) does not wait: its batches are few and in flight
// already, and the queue may be full of new batches waiting for the credits only it can free.
// Skipped batches are counted, not decoded.
import { isUtf8 } from 'node:buffer';
import { concatMap, from } from 'rxjs';
import { firstInvalidUtf8 } from '../model/corpus_read.js';
import type { LineBatch, ReadTask } from '../schemas/pipeline.js';
import type { Compute, Stage } from './stage.js';
import type { StageConfig } from './stage_config.js';
import { inputLines, type RawLine } from './input_lines.js';

export function read(room?: () => Promise<void>): Stage<ReadTask, LineBatch> {
  return concatMap((task) => from(readBatches(task, room)));
}

export function createStage(_config: StageConfig, compute: Compute): Stage<ReadTask, LineBatch> {
  return read(compute.room);
}

/** The batches of one task, in file order, read as they are pulled (a new batch of a whole-input task once `room` resolves). */
export async function* readBatches(task: ReadTask, room?: () => Promise<void>): AsyncGenerator<LineBatch> {
  if (!Number.isInteger(task.batch) || task.batch < 1) throw new Error(`read task for ${task.written}: batch must be a whole number of lines >= 1, got ${task.batch}`);
  const skip = new Set(task.skip);
  const only = task.only === null ? null : new Set(task.only);
  if (only !== null && only.size === 0) return;
  let current: LineBatch | null = null;
  let emit = false; // whether the current batch is wanted
  let inBatch = 0; // lines of the current batch seen
  let emitted = 0;
  for await (const lines of inputLines(task.path, task.written)) {
    for (const raw of lines) {
      if (inBatch === 0) {
        emit = !skip.has(raw.offset) && (only === null || only.has(raw.offset));
        current = emit ? emptyBatch(task, raw.offset) : null;
      }
      if (emit) addLine(current!, raw, task.written);
      if (++inBatch === task.batch) {
        inBatch = 0;
        if (emit) {
          if (only === null) await room?.();
          yield current!;
          // Redelivery: stop reading once every requested batch is out.
          if (only !== null && ++emitted === only.size) return;
        }
      }
    }
  }
  if (inBatch > 0 && emit) {
    if (only === null) await room?.();
    yield current!;
  }
}

function emptyBatch(task: ReadTask, offset: number): LineBatch {
  return { generation: task.generation, input: task.input, offset, file: task.written, format: task.format, config: task.config, lines: [], lastUnterminated: false, bad: [] };
}

function addLine(batch: LineBatch, raw: RawLine, shownAs: string): void {
  const { bytes } = raw;
  if (!isUtf8(bytes)) {
    const at = firstInvalidUtf8(bytes);
    batch.bad.push({
      where: `${shownAs}:${raw.line}`,
      reason: `invalid UTF-8 (byte 0x${bytes[at]!.toString(16).padStart(2, '0')} at byte ${at + 1} of the line); convert the file to UTF-8, e.g. \`iconv -f latin1 -t utf-8 FILE\``,
    });
    return;
  }
  batch.lines.push({ offset: raw.offset, line: raw.line, text: bytes.toString('utf8') });
  // Only a line that is emitted can carry the flag: split gives that line's sentence no </s>.
  if (!raw.terminated) batch.lastUnterminated = true;
}
