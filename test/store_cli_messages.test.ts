// What a user of `dbslm store` sees in the corner cases they hit, through the real CLI: a reader
// that closes the pipe early, an endpoint without its transport, values from a file or stdin,
// counters beyond 2^53-1, a wrong-type key named as text, keys without a namespace.
import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { CLI_SCRIPT, launchActor } from '../cli/io/actor_process.js';
import { StoreClient } from '../store/client/client.js';
import { makeKey, textKey } from '../store/protocol/keys.js';
import { tmpDir } from './helpers/store_procs.js';

const run = promisify(execFile);
const dbslm = (...args: string[]) => run(process.execPath, [CLI_SCRIPT, 'store', ...args], { timeout: 30000, maxBuffer: 8 * 1024 * 1024 });

/** The CLI with `input` on stdin; resolves with its exit code and output. */
function dbslmWithStdin(input: Buffer, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [CLI_SCRIPT, 'store', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => (stdout += d));
  proc.stderr.on('data', (d) => (stderr += d));
  proc.stdin.end(input);
  return new Promise((resolve) => proc.on('exit', (code) => resolve({ code, stdout, stderr })));
}

async function actor(t: { teardown: (fn: () => unknown) => void }) {
  const a = await launchActor({ id: 'cli', dataDir: tmpDir(), throughCli: true });
  t.teardown(() => a.kill());
  return a.endpoint;
}

const stderrOf = (err: unknown) => String((err as { stderr?: string }).stderr);

test('a reader that closes the pipe early: the CLI exits 0 without a stack trace', async (t) => {
  const ep = await actor(t);
  const c = await StoreClient.connect(ep);
  t.teardown(() => c.close());
  await c.batch(Array.from({ length: 5000 }, (_, i) => ({ op: 'set' as const, key: makeKey('pipe', Buffer.from('ctx'), Buffer.from(`k${i}`)), value: Buffer.from('v'.repeat(100)) })));
  for (const cmd of [`scan 'pipe:ctx' --limit 0`, 'status', 'stats']) {
    const script = `set -o pipefail; '${process.execPath}' '${CLI_SCRIPT}' store ${cmd} --connect ${ep} | head -c 1 > /dev/null`;
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const proc = spawn('bash', ['-c', script], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      proc.stderr.on('data', (d) => (stderr += d));
      proc.on('exit', (code) => resolve({ code, stderr }));
    });
    t.is(r.code, 0, `${cmd}: ${r.stderr}`);
    t.is(r.stderr, '', cmd);
  }
});

test('an endpoint without tcp:// is refused saying what an endpoint looks like, for --connect, --join and --bind', async (t) => {
  const connect = await t.throwsAsync(dbslm('get', 'ng:a|b', '--connect', '127.0.0.1:5555'));
  t.regex(stderrOf(connect), /--connect "127\.0\.0\.1:5555".*tcp:\/\/127\.0\.0\.1:5555/);
  for (const flag of ['--join', '--bind']) {
    const start = await t.throwsAsync(dbslm('start', '--id', 'x', '--data', tmpDir(), flag, '127.0.0.1:5555'));
    t.is((start as { code?: number }).code, 2);
    t.regex(stderrOf(start), new RegExp(`${flag} "127\\.0\\.0\\.1:5555".*tcp://HOST:PORT or ipc://PATH`));
  }
});

test('store set takes its value from a file (--file) or stdin (-), 1 MB included', async (t) => {
  const ep = await actor(t);
  const big = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = 97 + (i % 26);
  const file = path.join(tmpDir(), 'value.bin');
  fs.writeFileSync(file, big);
  await dbslm('set', 'kv:file', '--file', file, '--connect', ep);
  const fromStdin = await dbslmWithStdin(big, 'set', 'kv:stdin', '-', '--connect', ep);
  t.is(fromStdin.code, 0, fromStdin.stderr);
  const c = await StoreClient.connect(ep);
  t.teardown(() => c.close());
  t.true(big.equals((await c.get(textKey('kv:file'))) as Buffer));
  t.true(big.equals((await c.get(textKey('kv:stdin'))) as Buffer));
  t.is((await dbslm('get', 'kv:file', '--connect', ep)).stdout.length, big.length + 1);
  const both = await t.throwsAsync(dbslm('set', 'kv:x', 'value', '--file', file, '--connect', ep));
  t.is((both as { code?: number }).code, 1);
  const missing = await t.throwsAsync(dbslm('set', 'kv:x', '--file', path.join(tmpDir(), 'nope'), '--connect', ep));
  t.regex(stderrOf(missing), /nope/);
});

test('a counter increment beyond 2^53-1 names the limit and the range', async (t) => {
  const ep = await actor(t);
  const err = await t.throwsAsync(dbslm('set', 'ng:c|n', '9007199254740993', '--counter', '--connect', ep));
  t.regex(stderrOf(err), /9007199254740993.*2\^53-1.*-9007199254740991.*9007199254740991/);
  const notInt = await t.throwsAsync(dbslm('set', 'ng:c|n', '1.5', '--counter', '--connect', ep));
  t.regex(stderrOf(notInt), /integer/);
});

test('WRONG_TYPE names the key as ns:prefix|rest', async (t) => {
  const ep = await actor(t);
  await dbslm('set', 'ng:the cat|sat', 'text', '--connect', ep);
  const err = await t.throwsAsync(dbslm('set', 'ng:the cat|sat', '1', '--counter', '--connect', ep));
  t.true(stderrOf(err).includes('ng:the cat|sat'), stderrOf(err));
  t.false(/[0-9a-f]{16}/.test(stderrOf(err)), 'no hex key');
});

test('a key without a namespace gets the default namespace kv', async (t) => {
  const ep = await actor(t);
  await dbslm('set', 'plain-key', 'hello', '--connect', ep);
  t.is((await dbslm('get', 'plain-key', '--connect', ep)).stdout, 'hello\n');
  t.is((await dbslm('get', 'kv:plain-key', '--connect', ep)).stdout, 'hello\n');
  const scan = await dbslm('scan', 'kv:plain-key', '--connect', ep);
  t.is(scan.stdout, 'kv:plain-key\thello\n');
});
