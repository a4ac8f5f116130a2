// Failures the runtime must not recover from, and must name: a stage whose restarts run out, a
// stage failing on bad input (no restart helps), a message of another schema version.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import zmq from 'zeromq';
import { Coordinator } from '../pipeline/runtime/coordinator.js';
import { StageMessageType } from '../schemas/pipeline.js';
import { BUNDLED_TRAIN } from './helpers/paths.js';
import { expectedBatches, RECORD_SINK_URL, testPlan, tmpDir } from './helpers/runtime_plans.js';
import type { SplitTestConfig } from './helpers/runtime_stages/split_words.js';

function plan(dir: string, crash?: SplitTestConfig['crash']) {
  const p = testPlan({ model: 'rtf', order: 3, inputs: [BUNDLED_TRAIN], batch: 100, splitWorkers: 1, sink: { kind: 'module', url: RECORD_SINK_URL, config: { file: path.join(dir, 'd.txt') } }, crash });
  return { ...p, maxRestarts: 2, transport: { kind: 'ipc' as const, dir: path.join(dir, 'sockets') } };
}

const thirdBatch = () => Number([...expectedBatches([BUNDLED_TRAIN], 100).batches.keys()][2]!.split(' ')[1]);

test('a worker that crashes on every try fails the run once its restarts run out, naming the stage and the bound', async (t) => {
  const dir = tmpDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const notices: string[] = [];
  const err = await t.throwsAsync(new Coordinator(plan(dir, { offset: thirdBatch(), mode: 'always', marker: '' }), { onNotice: (l) => notices.push(l) }).run());
  t.regex(err!.message, /stage split worker 0 exited with code 4; it was restarted 2 times already \(the bound\): giving up/);
  t.is(notices.filter((l) => /restarted/.test(l)).length, 2);
});

test('a stage failing on bad input (an InputError) stops the run at once with its message, without restarts', async (t) => {
  const dir = tmpDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const notices: string[] = [];
  const err = await t.throwsAsync(new Coordinator(plan(dir, { offset: thirdBatch(), mode: 'fatal', marker: '' }), { onNotice: (l) => notices.push(l) }).run());
  t.regex(err!.message, /stage split worker 0: kjv\.sample\.txt:201: injected bad input/);
  t.is(err!.name, 'InputError', 'the CLI shows it as an input error (exit 1)');
  t.deepEqual(notices, []);
});

test('a message of another schema version is refused: the actor reports it and the run stops naming both versions', async (t) => {
  const dir = tmpDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const p = { ...plan(dir), stages: plan(dir).stages.map((s) => (s.name === 'source' ? { ...s, config: { delayMs: 200 } } : s)) };
  const intruder = new zmq.Push({ linger: 0 });
  t.teardown(() => intruder.close());
  let sent = false;
  const err = await t.throwsAsync(
    new Coordinator(p, {
      onEvent: (e) => {
        if (e.kind === 'ready' && e.stage === 'source' && !sent) {
          sent = true;
          intruder.connect(`ipc://${path.join(dir, 'sockets', 'split-0.sock')}`);
          void intruder.send(StageMessageType.toBuffer({ type: 'LineBatch', version: 99, body: Buffer.alloc(0) }));
        }
      },
    }).run(),
  );
  t.true(sent);
  t.regex(err!.message, /stage split worker 0: stage message LineBatch has schema version 99; this dbslm reads version 1/);
});
