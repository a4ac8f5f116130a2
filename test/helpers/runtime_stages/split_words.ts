// Test stage for the runtime: LineBatch -> SentenceBatch by whitespace, with an injected fault:
// on the batch at `crash.offset`, the first time (a marker file remembers it across restarts),
// the worker exits, throws inside the operator, or throws uncaught; `always` exits on it every
// time (restarts run out), `fatal` throws an InputError (no restart helps), `drop` loses the batch
// silently once (only the coordinator's stall check can notice).
import fs from 'node:fs';
import { EMPTY, mergeMap, of } from 'rxjs';
import { InputError } from '../../../model/errors.js';
import type { LineBatch, SentenceBatch } from '../../../schemas/pipeline.js';
import type { Stage } from '../../../stages/stage.js';

export interface SplitTestConfig {
  crash?: { offset: number; mode: 'exit' | 'throw' | 'uncaught' | 'always' | 'fatal' | 'drop'; marker: string };
}

export function createStage(config: SplitTestConfig): Stage<LineBatch, SentenceBatch> {
  return mergeMap((b: LineBatch) => {
    const crash = config.crash;
    if (crash?.mode === 'always' && b.offset === crash.offset) process.exit(4);
    if (crash?.mode === 'fatal' && b.offset === crash.offset) throw new InputError('injected bad input', b.file, b.lines[0]!.line);
    if (crash && b.offset === crash.offset && !fs.existsSync(crash.marker)) {
      fs.writeFileSync(crash.marker, `crashed at ${b.offset}\n`);
      if (crash.mode === 'drop') return EMPTY;
      if (crash.mode === 'exit') process.exit(3);
      if (crash.mode === 'throw') throw new Error(`injected fault at batch ${b.offset}`);
      setImmediate(() => {
        throw new Error(`injected uncaught fault at batch ${b.offset}`);
      });
    }
    return of({
      generation: b.generation,
      input: b.input,
      offset: b.offset,
      file: b.file,
      sentences: b.lines.map((l) => ({ offset: l.offset, tokens: l.text.split(/[ \t\r\0]+/).filter((w) => w.length > 0), eos: true })),
      lines: b.lines.length,
      bad: b.bad,
    });
  });
}
