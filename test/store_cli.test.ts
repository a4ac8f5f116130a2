// `dbslm store ...` through the real CLI entry: start an actor, then get/set/locate/scan/stats/stop.
import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { StoreClient } from '../store/client/client.js';
import { textKey } from '../store/protocol/keys.js';
import { killed, tmpDir } from './helpers/store_procs.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'main.js');
const run = promisify(execFile);
const dbslm = (...args: string[]) => run(process.execPath, [CLI, 'store', ...args], { timeout: 20000 });

test('dbslm store start/set/get/locate/scan/stats/stop', async (t) => {
  const proc = spawn(process.execPath, [CLI, 'store', 'start', '--id', 'cli-a', '--data', tmpDir(), '--durability', 'full'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => void (proc.exitCode === null && proc.kill('SIGKILL')));
  const ep = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /^listening (\S+)$/m.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.on('exit', (c) => reject(new Error(`store start exited ${c}: ${out}`)));
  });
  t.regex(ep, /^tcp:\/\/127\.0\.0\.1:\d+$/);

  await dbslm('set', '--connect', ep, 'ng:the cat|sat', 'on the mat');
  t.is((await dbslm('get', '--connect', ep, 'ng:the cat|sat')).stdout, 'on the mat\n');
  await dbslm('set', '--connect', ep, '--counter', 'ng:the cat|ran', '5');
  await dbslm('set', '--connect', ep, '--counter', 'ng:the cat|ran', '-2');
  t.is((await dbslm('get', '--connect', ep, 'ng:the cat|ran')).stdout, '3\n');

  const c = await StoreClient.connect(ep);
  t.teardown(() => c.close());
  const fork = c.locate(textKey('ng:the cat|sat')).fork;
  t.is((await dbslm('locate', '--connect', ep, 'ng:the cat|sat')).stdout, `fork=${fork} owner=cli-a\n`);
  t.is((await dbslm('scan', '--connect', ep, 'ng:the cat')).stdout, 'ng:the cat|ran\t3\nng:the cat|sat\ton the mat\n');

  const stats = JSON.parse((await dbslm('stats', '--connect', ep, '--json')).stdout) as { id: string; durability: string; forks: { fork: string; keys: number }[] };
  t.is(stats.id, 'cli-a');
  t.is(stats.durability, 'full');
  t.is(stats.forks.find((f) => f.fork === fork)!.keys, 2);

  const missing = await t.throwsAsync(dbslm('get', '--connect', ep, 'ng:nothing here'));
  t.regex(String((missing as { stderr?: string }).stderr), /not found/);
  const noNamespace = await t.throwsAsync(dbslm('get', '--connect', ep, 'no-namespace'));
  t.regex(String((noNamespace as { stderr?: string }).stderr), /not found/);

  await dbslm('stop', '--connect', ep);
  await killed(proc);
  t.is(proc.exitCode, 0);
});
