// A fork import into an actor whose disk fills up: the COMMIT itself fails (SQLite cannot write
// the WAL), and no chunk of a failed group may be acknowledged. The actor process runs under a
// file size limit (ulimit -f, with SIGXFSZ ignored so writes past it fail with EFBIG, as on a full
// disk); chunks go in one at a time through the importChunk hook, like a live move's move-chunk.
import test from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ForkChunkType, type ForkChunk } from '../schemas/fork_chunk.js';
import { ForkDb } from '../store/actor/fork_db.js';
import { makeKey, ROUTING_BYTES } from '../store/protocol/keys.js';
import { RawPeer } from './helpers/actor_in_process.js';
import { ACTOR_MAIN_SCRIPT as ACTOR_MAIN } from '../cli/io/actor_process.js';
import { killed, tmpDir } from './helpers/store_procs.js';

const DIST = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const FILE_LIMIT_KIB = 2048;
const ROWS_PER_CHUNK = 1000;
/** About 220 KiB of rows each: 20 chunks need twice the limit. */
const CHUNKS = 20;
const linuxOnly = process.platform === 'linux' ? test : test.skip;

/** A --plugin that gives the actor an `import-chunk` command over its importChunk hook. */
function importPlugin(dir: string): string {
  const file = path.join(dir, 'import_chunk_plugin.mjs');
  const url = (p: string) => JSON.stringify(pathToFileURL(path.join(DIST, p)).href);
  fs.writeFileSync(
    file,
    `import { actorExtensions } from ${url('store/actor/extensions.js')};
import { ForkChunkType } from ${url('schemas/fork_chunk.js')};
actorExtensions.push((actor) => actor.registerCommand('import-chunk', (body) => actor.importChunk(ForkChunkType.fromBuffer(body)).then(() => Buffer.alloc(0))));
`,
  );
  return file;
}

linuxOnly('a commit that fails on a full disk acknowledges no chunk of its group', async (t) => {
  const dir = tmpDir();
  const dataDir = path.join(dir, 'data');
  const args = [ACTOR_MAIN, '--id', 'a', '--data', dataDir, '--plugin', importPlugin(dir)].map((a) => `'${a}'`).join(' ');
  const proc = spawn('bash', ['-c', `trap '' XFSZ; ulimit -f ${FILE_LIMIT_KIB}; exec '${process.execPath}' ${args}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => void (proc.exitCode === null && proc.signalCode === null && proc.kill('SIGKILL')));
  let out = '';
  proc.stderr!.on('data', (d) => (out += d));
  const endpoint = await new Promise<string>((resolve, reject) => {
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /^listening (\S+)$/m.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.on('exit', (code) => reject(new Error(`actor exited with ${code} before listening:\n${out}`)));
  });
  const peer = new RawPeer(t, endpoint);

  const prefix = makeKey('full', Buffer.from('ctx')).subarray(0, ROUTING_BYTES);
  const fork = prefix.subarray(0, 1).toString('hex');
  let acknowledged = 0;
  const refused: string[] = [];
  for (let chunkNo = 0; chunkNo < CHUNKS; chunkNo++) {
    const entries = Array.from({ length: ROWS_PER_CHUNK }, (_, i) => ({ key: makeKey('full', Buffer.from('ctx'), Buffer.from(`${chunkNo}-${i}`)), kind: 1, data: Buffer.alloc(200, chunkNo) }));
    const chunk: ForkChunk = { fork, entries, dedup: [], last: entries.at(-1)!.key, done: false };
    const reply = await peer.ask('import-chunk', ForkChunkType.toBuffer(chunk));
    if (reply.code === 'OK') acknowledged++;
    else refused.push(`${reply.code}: ${reply.message}`);
  }
  proc.kill('SIGKILL');
  await killed(proc);
  const db = new ForkDb(dataDir, 'normal');
  t.teardown(() => db.close());
  t.is(db.size(prefix).keys, acknowledged * ROWS_PER_CHUNK, 'exactly the acknowledged chunks are stored');
  t.true(acknowledged > 0, 'some chunks fit before the limit');
  t.true(refused.length > 0, `the limit of ${FILE_LIMIT_KIB} KiB was reached`);
  t.true(refused.every((r) => r.startsWith('INTERNAL')), refused.join('\n'));
});
