// The actor processes of one fault run: `dbslm store start` children that the fault injector kills (-9), freezes
// (SIGSTOP) and restarts. A restart reuses the id, the data dir and the TCP port, as an operator restarting a crashed
// process would: StoreClient only learns a member's endpoint from the map, and never refetches it after a timeout,
// so an actor that came back on another port would stay unreachable to the clients already connected.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FaultNetwork } from './fault_network.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'cli', 'main.js');
/** Output kept per actor for the failure report (the tail is what explains a crash). */
const LOG_KEEP = 64 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type ActorState = 'starting' | 'up' | 'stopped' | 'dead';

export interface FaultActor {
  id: string;
  dir: string;
  /** Fixed after the first start, so restarts come back on the same endpoint. */
  port: number;
  ep: string;
  proc: ChildProcess | null;
  state: ActorState;
  /** Output of every incarnation, most recent last, trimmed to LOG_KEEP. */
  log: string;
  /** Exits nobody asked for (e.g. an actor dying on a full disk). */
  crashes: number;
  /** Set while a kill we sent is in progress, so its exit is not counted as a crash. */
  killing: boolean;
}

export class ActorSet {
  readonly actors = new Map<string, FaultActor>();

  /** `network`: each actor in a namespace of its own (fault_network.ts), so that it can be cut off; else all on loopback. */
  /** Actors killed for good (kill-permanent): never restarted, and left out of the checks that need every member. */
  readonly gone = new Set<string>();

  constructor(
    private readonly deadAfterMs: number,
    private readonly network: FaultNetwork | null = null,
    /** `--replicas` of every actor (1: each fork on its owner alone). */
    private readonly replicas = 1,
  ) {}

  get(id: string): FaultActor {
    const a = this.actors.get(id);
    if (!a) throw new Error(`no actor ${id} in this run`);
    return a;
  }

  list(): FaultActor[] {
    return [...this.actors.values()];
  }

  up(): FaultActor[] {
    return this.list().filter((a) => a.state === 'up');
  }

  /** First start of an actor on `port` (0: chosen by the OS), joining `join` if given. */
  async start(id: string, dir: string, join: string[], port = 0): Promise<FaultActor> {
    const a: FaultActor = { id, dir, port, ep: '', proc: null, state: 'dead', log: '', crashes: 0, killing: false };
    this.actors.set(id, a);
    await this.spawn(a, join);
    return a;
  }

  /** The actors not killed for good. */
  members(): FaultActor[] {
    return this.list().filter((a) => !this.gone.has(a.id));
  }

  /** kill -9, never to be restarted (the machine is lost): only with replicas. */
  async killForGood(id: string): Promise<void> {
    this.gone.add(id);
    await this.kill(id);
  }

  /** Start a dead actor again on its dir and port, joining every other member. */
  async restart(id: string): Promise<void> {
    const a = this.get(id);
    if (a.state !== 'dead' || this.gone.has(id)) return;
    const join = this.members().filter((x) => x.id !== id && x.ep).map((x) => x.ep);
    // The port may still be held for a moment by the dying process's socket: a few bounded tries.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.spawn(a, join);
        return;
      } catch (err) {
        if (attempt >= 4) throw err;
        await sleep(200 * (attempt + 1));
      }
    }
  }

  /** kill -9; resolves once the process is gone. A stopped process dies too (SIGKILL needs no SIGCONT). */
  async kill(id: string): Promise<void> {
    const a = this.get(id);
    const p = a.proc;
    if (!p) return;
    a.killing = true;
    const gone = exited(p);
    p.kill('SIGKILL');
    await Promise.race([gone, sleep(5000)]);
    a.state = 'dead';
    a.proc = null;
    a.killing = false;
  }

  freeze(id: string): boolean {
    const a = this.get(id);
    if (a.state !== 'up' || !a.proc) return false;
    a.proc.kill('SIGSTOP');
    a.state = 'stopped';
    return true;
  }

  thaw(id: string): void {
    const a = this.get(id);
    if (a.state !== 'stopped' || !a.proc) return;
    a.proc.kill('SIGCONT');
    a.state = 'up';
  }

  /** Thaw every frozen actor and restart every dead one. */
  async healAll(): Promise<void> {
    for (const a of this.list()) this.thaw(a.id);
    for (const a of this.list()) if (a.state === 'dead') await this.restart(a.id);
  }

  /** Kill everything (teardown); frozen processes are thawed first so nothing lingers stopped. */
  async closeAll(): Promise<void> {
    await Promise.all(
      this.list().map(async (a) => {
        if (a.proc && a.state === 'stopped') a.proc.kill('SIGCONT');
        await this.kill(a.id);
      }),
    );
  }

  /** The address an actor binds: its namespace's, or loopback. */
  hostOf(id: string): string {
    return this.network?.addressOf(id) ?? '127.0.0.1';
  }

  private async spawn(a: FaultActor, join: string[]): Promise<void> {
    const bind = `tcp://${this.hostOf(a.id)}:${a.port}`;
    const args = [CLI, 'store', 'start', '--id', a.id, '--bind', bind, '--data', a.dir, '--dead-after', String(this.deadAfterMs)];
    for (const j of join) args.push('--join', j);
    // A namespace's address is not loopback: the actor refuses it without CURVE unless told that is meant.
    if (this.network) args.push('--insecure');
    if (this.replicas > 1) args.push('--replicas', String(this.replicas));
    const { command, args: argv } = this.network ? this.network.wrap(a.id, [process.execPath, ...args]) : { command: process.execPath, args };
    const proc = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    // Tracked from the spawn on, so a teardown during a slow start still kills it.
    a.proc = proc;
    a.state = 'starting';
    const keep = (d: Buffer) => {
      a.log += d.toString();
      if (a.log.length > LOG_KEEP) a.log = a.log.slice(-LOG_KEEP);
    };
    a.log += `\n--- start ${a.id} at ${new Date().toISOString()} bind ${bind}\n`;
    proc.stderr!.on('data', keep);
    proc.once('exit', (code, sig) => {
      if (a.proc !== proc) return;
      if (!a.killing && a.state !== 'starting') {
        a.crashes++;
        a.log += `\n--- ${a.id} exited by itself (${code ?? sig})\n`;
      }
      a.state = 'dead';
      a.proc = null;
    });
    let out = '';
    const ep = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`actor ${a.id} printed no endpoint within 15 s:\n${a.log.slice(-2000)}`));
      }, 15000);
      proc.stdout!.on('data', (d: Buffer) => {
        keep(d);
        out += d.toString();
        const m = /^listening (tcp:\/\/[0-9.]+:(\d+))$/m.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      proc.once('exit', (code, sig) => {
        clearTimeout(timer);
        reject(new Error(`actor ${a.id} exited (${code ?? sig}) before listening:\n${a.log.slice(-2000)}`));
      });
    });
    if (a.proc !== proc) throw new Error(`actor ${a.id} was killed while starting`);
    a.ep = ep;
    a.port = Number(/:(\d+)$/.exec(ep)![1]);
    a.state = 'up';
  }
}

/** A loopback port that was free a moment ago (so members can be started together, each knowing the others' endpoints). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function exited(p: ChildProcess): Promise<void> {
  return new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));
}
