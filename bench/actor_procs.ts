// Store actor processes for the store benches: started on loopback with a fresh data directory
// (by cli/io/actor_process.ts), resolved with their bound endpoint, and stopped with the bench
// (also when it fails).
import { launchActor, type ActorProcess } from '../cli/io/actor_process.js';

// Node flags for the actor processes, e.g. BENCH_ACTOR_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'
// (NODE_OPTIONS refuses --cpu-prof).
const ACTOR_NODE_ARGS = (process.env.BENCH_ACTOR_NODE_ARGS ?? '').split(' ').filter(Boolean);
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

/** Stops every actor started so far (SIGTERM: they flush and close their databases). */
export function stopAll(): void {
  for (const actor of running.splice(0)) void actor.stop();
}

process.on('exit', stopAll);
