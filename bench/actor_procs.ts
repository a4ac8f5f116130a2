// Store actor processes for the store benches: started on loopback with a fresh data directory
// (by cli/io/actor_process.ts), resolved with their bound endpoint, and stopped with the bench
// (also when it fails).
import fs from 'node:fs';
import { launchActor, type ActorProcess } from '../cli/io/actor_process.js';

// Node flags for the actor processes, e.g. BENCH_ACTOR_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'
// (NODE_OPTIONS refuses --cpu-prof).
export const ACTOR_NODE_ARGS = (process.env.BENCH_ACTOR_NODE_ARGS ?? '').split(' ').filter(Boolean);
const running: ActorProcess[] = [];

export interface ActorOptions {
  join?: string[];
  durability?: 'normal' | 'full';
}

/** Starts an actor and resolves with the endpoint it printed as `listening <endpoint>`. */
export async function startActor(id: string, { join = [], durability = 'normal' }: ActorOptions = {}): Promise<string> {
  const actor = await launchActor({ id, join, durability, nodeArgs: ACTOR_NODE_ARGS, stderr: 'inherit' });
  running.push(actor);
  return actor.endpoint;
}

/**
 * CPU milliseconds (user + system, all threads) the running actors have used, from /proc (Linux;
 * NaN elsewhere): on a shared machine a run's CPU per token drifts less than its wall time.
 */
export function actorCpuMs(): number {
  let ms = 0;
  for (const actor of running) ms += processCpuMs(actor.proc.pid);
  return ms;
}

/** CPU milliseconds (user + system, all threads) process `pid` has used, from /proc (Linux; NaN elsewhere or once it exited). */
export function processCpuMs(pid: number | undefined): number {
  try {
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th, in
    // clock ticks of 1/100 s (USER_HZ, fixed by the Linux ABI).
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/** Stops every actor started so far (SIGTERM: they flush and close their databases). */
export function stopAll(): void {
  for (const actor of running.splice(0)) void actor.stop();
}

process.on('exit', stopAll);

/** CPU milliseconds the whole machine has been busy (every core, every process), from /proc/stat (Linux; NaN elsewhere). */
export function machineBusyMs(): number {
  try {
    // user nice system idle iowait irq softirq steal, in clock ticks of 1/100 s: busy is all but idle and iowait.
    const t = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    return (t[0]! + t[1]! + t[2]! + t[5]! + t[6]! + t[7]!) * 10;
  } catch {
    return NaN;
  }
}
