// Installers run by `dbslm store start` after the actor is serving: the cluster layer (gossip,
// membership, fork moves) and the model's smoothing jobs plug in here, so the actor and its start
// code know nothing about them.
import type { StoreActor } from './actor.js';
import { attachCluster } from '../cluster/cluster.js';
import { attachSmoothJobs } from '../model/smooth/smooth_jobs.js';

export interface StartOptions {
  /** Member endpoints given with --join. */
  join: string[];
  /** (cluster) Bound on the time for the others to mark a crashed member dead, ms (--dead-after; default 5000). */
  deadAfterMs?: number;
  /** (cluster) Copies of each fork, the owner's included (--replicas; default 1). */
  replicas?: number;
}
export type ActorExtension = (actor: StoreActor, opts: StartOptions) => void | Promise<void>;

export const actorExtensions: ActorExtension[] = [
  (actor, opts) => {
    attachCluster(actor, { seeds: opts.join, deadAfterMs: opts.deadAfterMs, replicas: opts.replicas });
  },
  // Modified Kneser-Ney smoothing of a model's counts, over the forks this actor owns.
  (actor) => attachSmoothJobs(actor),
];
