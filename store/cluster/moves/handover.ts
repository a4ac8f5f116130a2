// A handover (issue 10): a move of a fork onto one of its in-sync replicas, which holds the rows
// already. The owner fences the fork, waits until every in-sync replica confirmed the last commit,
// verifies the target's rows and cuts over as a live move does (source_machine.ts), but sends no
// rows and drops none: the target takes the fork with a new term, and the old owner takes the
// target's place among the replicas, in sync, at the place in the stream where it fenced the fork.
// Pure: what the entry after a handover is (the replication's part is `MoveReplication`, move_cluster.ts).
import type { ForkEntry } from '../../../schemas/fork_map.js';
import type { CutOverIntent } from './source_events.js';

/** The intent's handover part: the source takes the target's place among the replicas and in the in-sync set. */
export function handoverOf(entry: ForkEntry, self: string, to: string, place: { term: number; seq: number }): NonNullable<CutOverIntent['handover']> {
  const swap = (ids: string[] | undefined) => [...(ids ?? []).filter((id) => id !== to && id !== self), self];
  return { ...place, replicas: swap(entry.replicas), inSync: swap(entry.inSync) };
}

/** The fork's entry once the handover's cut-over is taken: the target owns it from a new term. */
export function handoverEntry(intent: CutOverIntent): ForkEntry {
  return { fork: intent.fork, owner: intent.to, epoch: intent.epoch, term: intent.epoch, replicas: intent.handover?.replicas ?? [], inSync: intent.handover?.inSync ?? [] };
}
