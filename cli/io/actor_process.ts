// Local store actors as child processes: spawned on loopback, known to be serving once they print
// `listening <endpoint>`, and stopped gracefully or killed. Tests, benches and (later) the
// pipeline start their actors here, so there is one way to launch one and to read its endpoint.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The actor's own entry point (store/actor/main.ts, compiled). */
export const ACTOR_MAIN_SCRIPT = fileURLToPath(new URL('../../store/actor/main.js', import.meta.url));
/** The dbslm command line, which starts an actor with `dbslm store start`. */
export const CLI_SCRIPT = fileURLToPath(new URL('../main.js', import.meta.url));

// The whole line, newline included, so a line split across two reads is never taken half.
const LISTENING_RE = /^listening (\S+)\n/m;
/** How much of an actor's output is kept for error messages (the newest part). */
const OUTPUT_KEPT = 64 * 1024;

/** Why an actor did not come up: it exited, stayed silent past the timeout, or never spawned. */
export type ActorStartFailure = 'exited' | 'timeout' | 'spawn';

export class ActorStartError extends Error {
  constructor(
    readonly actorId: string,
    readonly failure: ActorStartFailure,
    /** The exit code, or the signal that ended it, when it exited. */
    readonly exit: number | NodeJS.Signals | null,
    /** What it printed before failing. */
    readonly output: string,
    why: string,
  ) {
    super(`store actor ${actorId} ${why}; its output:\n${output}`);
    this.name = 'ActorStartError';
  }
}

export interface ActorLaunchOptions {
  id: string;
  /** Data directory; a fresh temporary one when absent. Pass an old one to restart an actor. */
  dataDir?: string;
  /** ZeroMQ endpoint to bind; port 0 picks a free port (the bound one is in `endpoint`). */
  bind?: string;
  /** Endpoints of existing members to join. */
  join?: readonly string[];
  durability?: 'normal' | 'full';
  deadAfterMs?: number;
  /** Copies of each fork (--replicas; the actor's default 1 when absent). */
  replicas?: number;
  /** Ids of a fresh cluster's members to deal the forks to from the start (--spread-over); this actor's among them. */
  spreadOver?: readonly string[];
  /** Further actor flags, e.g. ['--plugin', file]. */
  extraArgs?: readonly string[];
  /** Flags for node itself, e.g. ['--cpu-prof']. */
  nodeArgs?: readonly string[];
  /** Start through `dbslm store start` rather than the actor's main module. */
  throughCli?: boolean;
  /** 'capture' keeps stderr for `output()` and error messages; 'inherit' shows it live. */
  stderr?: 'capture' | 'inherit';
  /** How long to wait for the `listening` line. */
  startTimeoutMs?: number;
}

export interface ActorProcess {
  id: string;
  proc: ChildProcess;
  endpoint: string;
  dataDir: string;
  /** Resolves when the process has exited, whoever ended it. */
  exited: Promise<void>;
  /** The newest part of what the actor printed (stdout, and stderr when captured). */
  output(): string;
  /** SIGTERM: the actor flushes its writes and closes its database; resolves on exit. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would (also ends a SIGSTOPped actor); resolves on exit. */
  kill(): Promise<void>;
}

function actorArgs(options: ActorLaunchOptions, dataDir: string): string[] {
  const args = [...(options.nodeArgs ?? [])];
  args.push(...(options.throughCli ? [CLI_SCRIPT, 'store', 'start'] : [ACTOR_MAIN_SCRIPT]));
  args.push('--id', options.id, '--data', dataDir, '--bind', options.bind ?? 'tcp://127.0.0.1:0');
  for (const member of options.join ?? []) args.push('--join', member);
  if (options.durability) args.push('--durability', options.durability);
  if (options.deadAfterMs !== undefined) args.push('--dead-after', String(options.deadAfterMs));
  if (options.replicas !== undefined) args.push('--replicas', String(options.replicas));
  if (options.spreadOver?.length) args.push('--spread-over', options.spreadOver.join(','));
  args.push(...(options.extraArgs ?? []));
  return args;
}

/** Data directories made for actors launched without one: removed when this process exits. */
const temporaryDirs: string[] = [];

/**
 * A fresh data directory under the system's temporary directory, removed (with whatever the actor
 * wrote) when this process exits: a caller that names no directory wants none kept, and tests and
 * benches launch thousands of actors (each leaves a WAL of up to 128 MiB).
 */
function temporaryDataDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbslm-actor-'));
  if (temporaryDirs.push(dir) === 1) process.once('exit', () => removeDirs(temporaryDirs));
  return dir;
}

function removeDirs(dirs: readonly string[]): void {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Spawns an actor and resolves once it serves; rejects with an ActorStartError (and kills it)
 * if it exits or stays silent.
 */
export function launchActor(options: ActorLaunchOptions): Promise<ActorProcess> {
  const dataDir = options.dataDir ?? temporaryDataDir();
  const timeoutMs = options.startTimeoutMs ?? 15000;
  const proc = spawn(process.execPath, actorArgs(options, dataDir), { stdio: ['ignore', 'pipe', options.stderr === 'inherit' ? 'inherit' : 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer | string) => {
    output += chunk;
    if (output.length > 2 * OUTPUT_KEPT) output = output.slice(-OUTPUT_KEPT);
  };
  proc.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const hasExited = () => proc.exitCode !== null || proc.signalCode !== null;
  const signal = (name: NodeJS.Signals) => {
    if (!hasExited()) proc.kill(name);
    return exited;
  };

  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (failure: ActorStartFailure, exit: number | NodeJS.Signals | null, why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void signal('SIGKILL');
      reject(new ActorStartError(options.id, failure, exit, output, why));
    };
    const timer = setTimeout(() => fail('timeout', null, `printed no "listening <endpoint>" within ${timeoutMs} ms`), timeoutMs);
    proc.once('exit', (code, signalName) => fail('exited', code ?? signalName, `exited (${code ?? signalName}) before listening`));
    // 'error' is a failed spawn or signal; after start-up the exit status tells the story.
    proc.on('error', (err) => fail('spawn', null, `could not be started: ${err.message}`));
    let stdoutSoFar = '';
    proc.stdout!.on('data', function untilListening(chunk: Buffer) {
      keep(chunk);
      stdoutSoFar += chunk;
      const listening = LISTENING_RE.exec(stdoutSoFar);
      if (!listening || settled) return;
      settled = true;
      clearTimeout(timer);
      // Later output is still read (a full pipe would block the actor) and kept for messages.
      proc.stdout!.off('data', untilListening).on('data', keep);
      resolve({
        id: options.id,
        proc,
        endpoint: listening[1]!,
        dataDir,
        exited,
        output: () => output,
        stop: () => signal('SIGTERM'),
        kill: () => signal('SIGKILL'),
      });
    });
  });
}
