// More than one machine: a `dbslm pipeline worker` serving host w2 at 127.0.0.2 (a loopback alias:
// its count actors bind there) runs the count stage of a pipeline whose coordinator, reader and
// splitter are on 127.0.0.1 and whose store actors bind 127.0.0.3 (store.address). The exported
// ARPA is byte-identical to the same pipeline run all on one host.
import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { MetricsView } from '../schemas/metrics.js';
import { metricsRecordOf, startCli } from './helpers/cli_children.js';
import { BUNDLED_TRAIN, CLI } from './helpers/paths.js';
import { tmpDir } from './helpers/runtime_plans.js';

const exec = promisify(execFile);

const LINES = 1000;

/** The coordinator's address (`--listen`): not 127.0.0.1, so that what binds it is seen to. */
const COORDINATOR = '127.0.0.4';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, COORDINATOR, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function yaml(dir: string, name: string, countHost: boolean): string {
  const file = path.join(dir, `${name}.yaml`);
  const lines = [`name: ${name}`, 'inputs: [{ path: corpus.txt }]', 'order: 3', 'stages:', '  read: { batch: 200 }'];
  lines.push(countHost ? '  count: { workers: 2, host: w2 }' : '  count: { workers: 2 }');
  if (countHost) lines.push('hosts:', '  w2: { address: 127.0.0.2 }');
  // The remote run's store actors bind another address than the coordinator's, as on two machines.
  lines.push('store:', '  actors: 2', `  data: ${name}.store`, ...(countHost ? ['  address: 127.0.0.3'] : []), 'export:', `  arpa: ${name}.arpa`, '');
  fs.writeFileSync(file, lines.join('\n'));
  return file;
}

test('a pipeline worker on 127.0.0.2 runs the count stage, and the model is byte-identical to a one-host run', async (t) => {
  const dir = tmpDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  // The first LINES lines of the bundled corpus: two runs of it stay quick.
  fs.writeFileSync(path.join(dir, 'corpus.txt'), fs.readFileSync(BUNDLED_TRAIN, 'utf8').split('\n').slice(0, LINES).join('\n') + '\n');
  const port = await freePort();
  const listen = `tcp://${COORDINATOR}:${port}`;

  // The worker starts first and waits for the coordinator (ZeroMQ reconnects until it is there).
  const worker = spawn(process.execPath, [CLI, 'pipeline', 'worker', '--connect', listen, '--name', 'w2'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let workerLog = '';
  worker.stderr.on('data', (d: Buffer) => (workerLog += d.toString()));
  const workerExit = new Promise<number | null>((r) => worker.once('exit', (code) => r(code)));
  t.teardown(() => void worker.kill('SIGKILL'));

  const run = startCli(['pipeline', 'run', yaml(dir, 'remote', true), '--listen', listen, '--json', '--quiet'], dir);
  // The metrics hub binds the coordinator's address and the remote stage's taps its host's, so
  // that a count actor on another machine reaches the one and `pipeline tap` the other. A tail
  // (found through out/.dbslm-metrics) follows the run to its end.
  const record = await metricsRecordOf(path.join(dir, 'out', '.dbslm-metrics'), run.proc.pid!, 60000);
  t.regex(record.endpoint, new RegExp(`^tcp://${COORDINATOR.replaceAll('.', '\\.')}:\\d+$`));
  t.is(record.taps!.count!.length, 2);
  for (const tap of record.taps!.count!) t.regex(tap, /^tcp:\/\/127\.0\.0\.2:\d+$/);
  const tail = startCli(['metrics', 'tail', '--json', '--interval', '500', '--timeout', '60000'], dir);
  t.teardown(() => void tail.proc.kill('SIGKILL'));
  t.is(await run.exited, 0, run.stderr());
  t.is(await tail.exited, 0, tail.stderr());
  const summary = JSON.parse(run.stdout()) as { counting: { words: number; stages: { name: string; restarts: number }[] } };
  t.is(summary.counting.words, fs.readFileSync(path.join(dir, 'corpus.txt'), 'utf8').split(/\s+/).filter(Boolean).length);
  // The remote count actors' own metrics reached the hub: the tail's last view counts what they took in.
  const views = tail.stdout().trim().split('\n').map((l) => JSON.parse(l) as MetricsView);
  const countRow = views[views.length - 1]!.rows.find((r) => r.kind === 'stage' && r.name === 'count')!;
  // (One item per sentence, a line each; a restarted worker's last moments are counted again or not at all.)
  const count = summary.counting.stages.find((st) => st.name === 'count')!;
  if (count.restarts === 0) t.is(countRow.itemsIn.total, LINES);
  else t.true(countRow.itemsIn.total > 0);
  t.regex(run.stderr(), /store actors: remote-store-1 at tcp:\/\/127\.0\.0\.3:\d+, remote-store-2 at tcp:\/\/127\.0\.0\.3:\d+/);
  t.is(await workerExit, 0, 'the worker ends with the run');
  t.regex(workerLog, /started count worker 0/);
  t.regex(workerLog, /started count worker 1/);
  t.notRegex(workerLog, /started (read|split)/, 'only the count stage is placed on w2');

  await exec(process.execPath, [CLI, 'pipeline', 'run', yaml(dir, 'local', false), '--quiet'], { cwd: dir, timeout: 150000 });
  const a = fs.readFileSync(path.join(dir, 'remote.arpa'));
  const b = fs.readFileSync(path.join(dir, 'local.arpa'));
  t.true(a.length > 100_000);
  t.true(a.equals(b), 'the ARPA built with a remote count stage equals the one-host ARPA byte for byte');
});

test('a run whose stage is placed on a host with no worker fails within the wait, naming the host and the command to run', async (t) => {
  const dir = tmpDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'corpus.txt'), 'a b c\n');
  const file = path.join(dir, 'nowork.yaml');
  fs.writeFileSync(file, ['inputs: [{ path: corpus.txt }]', 'order: 1', 'hosts: { w9: { address: 127.0.0.9 } }', 'stages: { count: { host: w9 } }', 'store: { actors: 1, data: s }', ''].join('\n'));
  const err = (await t.throwsAsync(exec(process.execPath, [CLI, 'pipeline', 'run', file, '--quiet', '--worker-wait', '1500'], { cwd: dir, timeout: 60000 }))) as unknown as { code: number; stderr: string };
  t.is(err.code, 1);
  t.regex(err.stderr, /no pipeline worker for host w9 connected to tcp:\/\/127\.0\.0\.1:\d+ within 1500 ms: start `dbslm pipeline worker --connect tcp:\/\/127\.0\.0\.1:\d+ --name HOST`/);
});
