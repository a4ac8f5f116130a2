// Reducer arguments come from any client: a reducer that declares their Avro type gets them checked
// (every count and length bounded by the bytes present) before it runs, so a plugin decoding them
// with avsc cannot be made to allocate gigabytes by a 5-byte argument.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { STORE_COMMANDS } from '../schemas/store.js';
import { RawPeer } from './helpers/actor_in_process.js';
import { spawnActor, tmpDir } from './helpers/store_procs.js';

const DIST = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

/** A --plugin registering `sum-of-args`, which decodes its arguments (an array of longs) as a plugin author would. */
function argsPlugin(dir: string): string {
  const file = path.join(dir, 'args_plugin.mjs');
  const url = (p: string) => JSON.stringify(pathToFileURL(path.join(DIST, p)).href);
  fs.writeFileSync(
    file,
    `import { avroType } from ${url('schemas/command.js')};
import { CountResult, registerReducer } from ${url('store/actor/reducers.js')};
const Longs = avroType({ type: 'array', items: 'long' });
registerReducer('sum-of-args', {
  args: Longs,
  run: (_rows, args) => CountResult.toBuffer({ entries: Longs.fromBuffer(args).reduce((s, n) => s + n, 0) }),
  combine: (results) => results[0],
});
`,
  );
  return file;
}

test('reducer arguments are checked against the declared type before the reducer runs', async (t) => {
  const dir = tmpDir();
  const a = await spawnActor(t, 'a', { extra: ['--plugin', argsPlugin(dir)] });
  const peer = new RawPeer(t, a.ep);
  const reduce = (name: string, args: Buffer) => peer.ask('reduce', STORE_COMMANDS.reduce.encodeRequest({ name, prefix: Buffer.alloc(0), args }));

  const ok = await reduce('sum-of-args', Buffer.from([0x06, 0x02, 0x04, 0x06, 0x00])); // [1, 2, 3]
  t.is(ok.code, 'OK');
  for (const hostile of ['feffffff0f', 'feffffffffffff0f', '0602']) {
    t.is((await reduce('sum-of-args', Buffer.from(hostile, 'hex'))).code, 'BAD_REQUEST', hostile);
    t.is((await reduce('counts-of-counts', Buffer.from(hostile, 'hex'))).code, 'BAD_REQUEST', hostile);
  }
  t.is((await peer.ask('ping', Buffer.alloc(0))).code, 'OK', 'the actor serves on');
  t.is(a.proc.exitCode, null);
});
