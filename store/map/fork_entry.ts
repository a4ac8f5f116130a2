// One entry of the fork map (fork_map.ts) by itself: its normal form, its term, and which of two
// entries of one fork wins a merge. The map's members and the replication code compare entries
// with these, so that every member decides the same way.
import type { ForkEntry } from '../../schemas/fork_map.js';

/**
 * An entry as the map keeps it: the replication fields only when they say something (replicas or
 * an in-sync set that are not empty, a term older than the epoch), so an entry of a fork without
 * replicas is `{fork, owner, epoch}` as before replication, however it was decoded.
 */
export function fullEntry(e: ForkEntry): ForkEntry {
  const out: ForkEntry = { fork: e.fork, owner: e.owner, epoch: e.epoch };
  if (e.replicas?.length) out.replicas = [...e.replicas];
  if (e.inSync?.length) out.inSync = [...e.inSync];
  if (e.term && e.term !== e.epoch) out.term = e.term;
  return out;
}

/** The epoch at which the entry's owner got the fork (its replication stream's number). */
export function termOf(e: ForkEntry): number {
  return e.term || e.epoch;
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/**
 * Of two entries of one fork at the same epoch (two members that each took version + 1: an owner
 * changing its replicas while a failover promotes one, or while its own move cuts over), the first
 * wins: the newer term, i.e. the change of owner over a change of replicas, then the smaller owner id.
 */
export function tieOrder(x: ForkEntry, y: ForkEntry): number {
  return termOf(y) - termOf(x) || (x.owner < y.owner ? -1 : x.owner > y.owner ? 1 : 0);
}

/** `e` replaces `o` when merged: a newer epoch, or the winner of an equal one. */
export function supersedes(e: ForkEntry, o: ForkEntry | undefined): boolean {
  return !o || e.epoch > o.epoch || (e.epoch === o.epoch && tieOrder(e, o) < 0);
}

/** The same decision: owner, epoch, term, replicas and in-sync set. */
export function sameEntry(o: ForkEntry, e: ForkEntry): boolean {
  return o.owner === e.owner && o.epoch === e.epoch && termOf(o) === termOf(e) && sameList(o.replicas, e.replicas) && sameList(o.inSync, e.inSync);
}
