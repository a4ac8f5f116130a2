// What each fault kind does to the actors of a running move, once the injector chose the moment. Every duration
// comes from the episode's draws, so a seed replays the same faults. A fault whose victim is not in a state to take
// it (already dead, say) is skipped and reported as not injected.
import type { ActorSet } from './fault_actors.js';
import type { SmallDisk } from './fault_disk.js';
import type { FaultNetwork } from './fault_network.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type FaultKind =
  | 'none'
  | 'kill-source'
  | 'kill-target'
  | 'restart-target-under-frozen-source'
  | 'crash-source-before-cutover-reply'
  | 'freeze-source'
  | 'freeze-target'
  | 'freeze-other'
  | 'disk-full'
  | 'partition-source'
  | 'partition-target'
  | 'partition-other'
  | 'kill-permanent';

export const FAULT_WEIGHTS: [FaultKind, number][] = [
  ['none', 0.08],
  ['kill-source', 0.13],
  ['kill-target', 0.13],
  ['restart-target-under-frozen-source', 0.13],
  ['crash-source-before-cutover-reply', 0.13],
  ['freeze-source', 0.11],
  ['freeze-target', 0.11],
  ['freeze-other', 0.05],
  ['disk-full', 0.13],
  ['partition-source', 0.07],
  ['partition-target', 0.05],
  ['partition-other', 0.03],
  // Only with replicas (each fork on two members), once per run: the source's machine is lost.
  ['kill-permanent', 0.1],
];

/** Kinds that only make sense at the cut-over (the injector waits for the source to fence the fork first). */
export const CUTOVER_ONLY: FaultKind[] = ['crash-source-before-cutover-reply'];

export interface FaultContext {
  actors: ActorSet;
  fork: string;
  source: string | undefined;
  target: string;
  third: string | undefined;
  /** Uniform draws in [0, 1) of the episode. */
  hold: number;
  extra: number;
  deadAfterMs: number;
  disk: { actor: string; disk: SmallDisk } | null;
  network: FaultNetwork | null;
  /** The fork's owner in one member's own map (undefined when it does not answer). */
  ownerSeenBy: (id: string, fork: string) => Promise<string | undefined>;
  /**
   * Waits (up to a few seconds) until every live member's map gives every fork its R - 1 in-sync replicas; false if
   * that did not happen.
   */
  fullyReplicated: () => Promise<boolean>;
  /** Logs one event line (the injector prefixes the episode). */
  log: (line: string) => void;
}

/** Applies one fault; false when it could not be injected (victim missing or not up). */
export async function applyFault(kind: FaultKind, c: FaultContext): Promise<boolean> {
  const { actors } = c;
  const victim = kind.endsWith('source') ? c.source : kind.endsWith('target') ? c.target : kind.endsWith('-other') ? c.third : undefined;
  const restart = (id: string) => actors.restart(id).catch((err) => c.log(`restart of ${id} failed: ${(err as Error).message}`));
  switch (kind) {
    case 'kill-source':
    case 'kill-target': {
      if (!victim || actors.get(victim).state === 'dead') return false;
      await actors.kill(victim);
      c.log(`kill -9 ${victim}`);
      await sleep(200 + c.hold * 1300);
      await restart(victim);
      return true;
    }
    case 'restart-target-under-frozen-source': {
      // The source stops between two chunk round trips (or with a reply on its way); the target restarts meanwhile,
      // so the source's next chunk reaches a fresh target process that knows nothing of the import.
      if (!c.source || actors.get(c.target).state !== 'up' || !actors.freeze(c.source)) return false;
      await sleep(100 + c.extra * 200);
      await actors.kill(c.target);
      c.log(`SIGSTOP ${c.source}, kill -9 and restart ${c.target}, SIGCONT ${c.source}`);
      await sleep(c.hold * 500);
      await restart(c.target);
      actors.thaw(c.source);
      return true;
    }
    case 'crash-source-before-cutover-reply': {
      // Hold the target at the cut-over so the source waits on it, freeze the source, let the target adopt the fork,
      // then kill the source before it reads the reply: it restarts owning the fork in its own map (with a move
      // intent), while the target already serves writes at the next epoch.
      if (!c.source || actors.get(c.target).state !== 'up' || actors.get(c.source).state !== 'up') return false;
      actors.freeze(c.target);
      await sleep(100 + c.extra * 200);
      actors.freeze(c.source);
      actors.thaw(c.target);
      let adopted = false;
      for (let i = 0; i < 20 && !adopted; i++) {
        await sleep(50);
        adopted = (await c.ownerSeenBy(c.target, c.fork)) === c.target;
      }
      await actors.kill(c.source);
      c.log(`SIGSTOP ${c.target}, SIGSTOP ${c.source}, SIGCONT ${c.target} (${adopted ? 'it adopted the fork' : 'it did not adopt the fork'}), kill -9 ${c.source}`);
      await sleep(200 + c.hold * 1300);
      await restart(c.source);
      return true;
    }
    case 'freeze-source':
    case 'freeze-target':
    case 'freeze-other': {
      if (!victim || !actors.freeze(victim)) return false;
      const ms = c.deadAfterMs * (0.5 + c.hold);
      c.log(`SIGSTOP ${victim} for ${Math.round(ms)} ms`);
      await sleep(ms / 2);
      if (victim === c.source && (await c.ownerSeenBy(c.target, c.fork)) === c.target) c.log(`${c.target} owns ${c.fork} while ${c.source} is frozen`);
      await sleep(ms / 2);
      actors.thaw(victim);
      return true;
    }
    case 'disk-full': {
      if (!c.disk) return false;
      const bytes = c.disk.disk.fill(Math.floor(c.extra * 256 * 1024));
      c.log(`filled ${c.disk.actor}'s disk with ${bytes} bytes of ballast`);
      // Short: the disk frees up again within the move, so a chunk import that failed is followed by a cut-over that
      // succeeds (what a failed commit acknowledged as an import would then lose).
      await sleep(50 + c.hold * 600);
      c.disk.disk.freeBallast();
      return true;
    }
    case 'partition-source':
    case 'partition-target':
    case 'partition-other': {
      // Cut off, not frozen: the victim runs on alone, its lease running out, while the others may declare it dead;
      // then it is linked again, still owning in its own map what it owned, and must take the cluster's word.
      if (!victim || !c.network || actors.get(victim).state !== 'up' || !c.network.isolate(victim)) return false;
      const ms = c.deadAfterMs * (0.5 + 1.5 * c.hold);
      c.log(`cut ${victim} off the network for ${Math.round(ms)} ms`);
      await sleep(ms);
      c.network.rejoin(victim);
      return true;
    }
    case 'kill-permanent': {
      // The owner of a busy fork is lost for good: its forks fail over to their in-sync replicas, and the run's
      // checks read every acknowledged write from the members left.
      if (!c.source || actors.gone.size > 0 || actors.get(c.source).state === 'dead') return false;
      // Only at full strength: a fork whose only up-to-date copy is the victim's (its replicas still filling after
      // an earlier fault's failover) is beyond what R = 2 keeps (fault seed 43 lost 176 forks so, 0.7 s after a
      // partitioned owner returned and before its snapshots or those of its stand-in's new replica were in).
      if (!(await c.fullyReplicated())) {
        c.log(`kill-permanent of ${c.source} skipped: some fork has no in-sync replica yet (an earlier fault's failover)`);
        return false;
      }
      await actors.killForGood(c.source);
      c.log(`kill -9 ${c.source} for good`);
      return true;
    }
    case 'none':
      return false;
  }
}
