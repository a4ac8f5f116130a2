// Installers run by `dbslm store start` after the actor is serving: the cluster layer (gossip,
// membership, fork moves) plugs in here, so the actor and its start code know nothing about it.
import type { StoreActor } from './actor.js';
import { attachCluster } from '../cluster/cluster.js';

export interface StartOptions {
  /** Member endpoints given with --join. */
  join: string[];
  /** (cluster) Bound on the time for the others to mark a crashed member dead, ms (--dead-after; default 5000). */
  deadAfterMs?: number;
}
export type ActorExtension = (actor: StoreActor, opts: StartOptions) => void | Promise<void>;

export const actorExtensions: ActorExtension[] = [
  (actor, opts) => {
    attachCluster(actor, { seeds: opts.join, deadAfterMs: opts.deadAfterMs });
  },
];
