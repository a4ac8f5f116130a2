// Installers run by `dbslm store start` after the actor is serving: the cluster layer (gossip,
// membership, fork moves) plugs in here by appending to `actorExtensions`, without editing the
// actor or its start code.
import type { StoreActor } from './actor.js';

export interface StartOptions {
  /** Member endpoints given with --join. */
  join: string[];
}
export type ActorExtension = (actor: StoreActor, opts: StartOptions) => void | Promise<void>;

export const actorExtensions: ActorExtension[] = [];
