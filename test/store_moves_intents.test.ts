// The move intents file (store/cluster/moves/intents.ts) when it cannot be written, as on a full disk: the intents
// in memory must say what the file says where that decides something. An intent whose write failed is not kept (the
// source then resolves the cut-over as never sent and must find nothing to clear, or its fork stays fenced); a clear
// whose write failed is done in memory and the write retried until it succeeds (a stale intent on disk only makes a
// restarted source ask the target again).
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { MoveIntents } from '../store/cluster/moves/intents.js';
import type { CutOverIntent } from '../store/cluster/moves/source_events.js';
import { tempDir } from './helpers/temp_dir.js';

const intent: CutOverIntent = { kind: 'cut-over', moveId: 'm1', fork: '7f', to: 'b', epoch: 3 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A data dir whose intents file cannot be replaced while blocked: the temporary file's name is taken by a directory. */
function dataDir(t: { teardown: (f: () => void) => void }) {
  const dir = tempDir('intents-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const tmp = path.join(dir, 'move-intents.json.tmp');
  return { dir, block: () => fs.mkdirSync(tmp), unblock: () => fs.rmdirSync(tmp) };
}

test('an intent whose write fails is not kept, in memory or on disk', (t) => {
  const d = dataDir(t);
  const intents = new MoveIntents(d.dir);
  t.teardown(() => intents.close());
  d.block();
  t.throws(() => intents.add(intent));
  t.is(intents.get(intent.fork), undefined);
  t.deepEqual(intents.all(), []);
  t.deepEqual(new MoveIntents(d.dir).all(), []);
});

test('an intent whose write fails leaves the one before it in place', (t) => {
  const d = dataDir(t);
  const intents = new MoveIntents(d.dir);
  t.teardown(() => intents.close());
  intents.add(intent);
  d.block();
  t.throws(() => intents.add({ ...intent, moveId: 'm2', epoch: 4 }));
  t.deepEqual(intents.get(intent.fork), intent);
  t.deepEqual(new MoveIntents(d.dir).get(intent.fork), intent);
});

test('a clear whose write fails is done in memory at once and written once the file can be written again', async (t) => {
  const d = dataDir(t);
  const intents = new MoveIntents(d.dir, { retryMs: 20 });
  t.teardown(() => intents.close());
  intents.add(intent);
  d.block();
  t.notThrows(() => intents.remove(intent.fork));
  t.is(intents.get(intent.fork), undefined);
  t.deepEqual(new MoveIntents(d.dir).get(intent.fork), intent, 'the file still holds the intent while it cannot be written');
  d.unblock();
  for (let i = 0; i < 100 && new MoveIntents(d.dir).all().length; i++) await sleep(20);
  t.deepEqual(new MoveIntents(d.dir).all(), []);
});
