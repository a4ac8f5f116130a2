// An actor that cannot open or write one of its files at start-up says which file and what to do,
// and exits 1 (through the real `dbslm store start`).
import test from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI_SCRIPT } from '../cli/io/actor_process.js';
import { tmpDir } from './helpers/store_procs.js';
import { parseStartArgs, spreadOwners } from '../store/actor/main.js';

const linuxOnly = process.platform === 'linux' ? test : test.skip;

/** `dbslm store start` expected to fail; `limitKiB` runs it under a file size limit (writes fail as on a full disk). */
function startToExit(dataDir: string, limitKiB?: number): Promise<{ code: number | null; stderr: string }> {
  const args = [CLI_SCRIPT, 'store', 'start', '--id', 'a', '--data', dataDir];
  const proc =
    limitKiB === undefined
      ? spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('bash', ['-c', `trap '' XFSZ; ulimit -f ${limitKiB}; exec "$@"`, 'bash', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`store start did not exit within 15 s:\n${stderr}`));
    }, 15000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

test('a store.db that is a directory: exit 1 naming the file', async (t) => {
  const dir = tmpDir();
  fs.mkdirSync(path.join(dir, 'store.db'));
  const r = await startToExit(dir);
  t.is(r.code, 1, r.stderr);
  t.true(r.stderr.includes(path.join(dir, 'store.db')), r.stderr);
  t.is(r.stderr.trim().split('\n').length, 1, 'one line, no stack');
});

test('a fork map that is a directory: exit 1 naming the file', async (t) => {
  const dir = tmpDir();
  fs.mkdirSync(path.join(dir, 'forkmap.avro'));
  const r = await startToExit(dir);
  t.is(r.code, 1, r.stderr);
  t.true(r.stderr.includes(path.join(dir, 'forkmap.avro')), r.stderr);
});

test('a --data path that is a file: exit 1 naming it', async (t) => {
  const file = path.join(tmpDir(), 'not-a-dir');
  fs.writeFileSync(file, 'x');
  const r = await startToExit(file);
  t.is(r.code, 1, r.stderr);
  t.true(r.stderr.includes(file), r.stderr);
});

linuxOnly('no room to write (file size limit 0, as on a full disk): exit 1 naming the file', async (t) => {
  const dir = tmpDir();
  const r = await startToExit(dir, 0);
  t.is(r.code, 1, r.stderr);
  t.true(r.stderr.includes(path.join(dir, 'store.db')), r.stderr);
});

test('the direct actor script reads the same flags as `dbslm store start`, defaults included', (t) => {
  t.deepEqual(parseStartArgs(['--id', 'a', '--data', '/d', '--join', 'tcp://127.0.0.1:1', '--join', 'tcp://127.0.0.1:2', '--dead-after', '1500', '--insecure']), {
    id: 'a',
    bind: 'tcp://127.0.0.1:0',
    data: '/d',
    join: ['tcp://127.0.0.1:1', 'tcp://127.0.0.1:2'],
    durability: 'normal',
    insecure: true,
    plugin: [],
    deadAfter: 1500,
    replicas: 1,
    spreadOver: [],
  });
  t.is(parseStartArgs(['--id', 'a', '--data', '/d', '--durability', 'full']).deadAfter, 5000);
  t.is(parseStartArgs(['--id', 'a', '--data', '/d', '--replicas', '2']).replicas, 2);
  t.throws(() => parseStartArgs(['--id', 'a']), { message: /missing required flag --data/ });
  t.throws(() => parseStartArgs(['--id', 'a', '--data', '/d', '--durability', 'fsync']), { message: /--durability must be one of normal, full/ });
  t.throws(() => parseStartArgs(['--id', 'a', '--data', '/d', '--dead-after', 'soon']), { message: /--dead-after must be a number/ });
  t.throws(() => parseStartArgs(['--id', 'a', '--data', '/d', '--frobnicate']), { message: /frobnicate/ });
});

test('--spread-over: repeated or comma-separated ids, its own among them, and never with --join', (t) => {
  const ids = (...flags: string[]) => spreadOwners(parseStartArgs(['--id', 'a', '--data', '/d', ...flags]));
  t.deepEqual(ids('--spread-over', 'a,b', '--spread-over', 'c'), ['a', 'b', 'c']);
  t.deepEqual(ids(), []);
  t.throws(() => ids('--spread-over', 'b,c'), { message: /must list this member's own id \(a\)/ });
  t.throws(() => ids('--spread-over', 'a,b c'), { message: /"b c" is not a member id/ });
  t.throws(() => ids('--spread-over', 'a,b', '--join', 'tcp://127.0.0.1:1'), { message: /drop one of --spread-over and --join/ });
});
