// `dbslm pipeline worker`: the process on another host that runs the stage actors a pipeline's
// YAML places there (`host: NAME`). It connects to the coordinator (worker_hosts.ts), says hello
// with its name, starts each actor it is asked to as a child process running stage_actor.ts (as the
// coordinator does for local stages), reports every exit, and ends when the coordinator says bye.
// Module URLs in a spec point into the coordinator's dbslm; they are mapped to this one's.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import zmq from 'zeromq';
import { decodeWorkerMessage, encodeWorkerMessage } from '../../schemas/pipeline_workers.js';
import type { ActorSpec } from './actor_spec.js';
import { DIST_ROOT } from './worker_hosts.js';

const ACTOR_SCRIPT = fileURLToPath(new URL('./stage_actor.js', import.meta.url));
const SIGNALS: Record<string, number> = { SIGKILL: 9, SIGTERM: 15, SIGABRT: 6, SIGSEGV: 11, SIGINT: 2 };

function mapUrl(url: string | null, theirRoot: string): string | null {
  if (!url || !url.startsWith('file:')) return url;
  const file = fileURLToPath(url);
  const rel = path.relative(theirRoot, file);
  return rel.startsWith('..') ? url : pathToFileURL(path.join(DIST_ROOT, rel)).href;
}

export interface WorkerOptions {
  connect: string;
  name: string;
  log(line: string): void;
}

/** Serves one run; resolves when the coordinator says bye. */
export async function runWorker(opts: WorkerOptions): Promise<void> {
  const dealer = new zmq.Dealer({ linger: 1000 });
  dealer.connect(opts.connect);
  const children = new Map<string, ChildProcess>();
  const report = (spec: ActorSpec, code: number) => void dealer.send(encodeWorkerMessage({ kind: 'exited', stage: spec.stage, worker: spec.worker, incarnation: spec.incarnation, code })).catch(() => undefined);
  await dealer.send(encodeWorkerMessage({ kind: 'hello', name: opts.name }));
  opts.log(`pipeline worker ${opts.name}: connected to ${opts.connect}; waiting for stages`);
  try {
    for await (const [body] of dealer) {
      const message = decodeWorkerMessage(body!);
      if (message.kind === 'start') {
        const spec = JSON.parse(message.spec) as ActorSpec;
        spec.module = mapUrl(spec.module, message.distRoot)!;
        spec.taskModule = mapUrl(spec.taskModule, message.distRoot);
        const child = spawn(process.execPath, [ACTOR_SCRIPT, JSON.stringify(spec)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        children.set(`${spec.stage}/${spec.worker}`, child);
        child.once('exit', (code, signal) => report(spec, code ?? 128 + (SIGNALS[signal ?? ''] ?? 0)));
        opts.log(`pipeline worker ${opts.name}: started ${spec.stage} worker ${spec.worker}${spec.incarnation ? ` (restart ${spec.incarnation})` : ''}`);
      } else if (message.kind === 'kill') {
        children.get(`${message.stage}/${message.worker}`)?.kill('SIGKILL');
      } else if (message.kind === 'bye') {
        opts.log(`pipeline worker ${opts.name}: the run ended`);
        break;
      }
    }
  } finally {
    for (const child of children.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    dealer.close();
  }
}
