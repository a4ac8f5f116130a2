// What an actor without a lease answers (FENCED, retryable): why it refuses, which members it waits for, and, when
// those are dead, what the operator has to do, because then retrying never helps (a 2-member cluster that lost one
// member waits for it forever unless it is forgotten).
import type { WriteLease } from './lease.js';

/** This actor: its id and endpoint, and whether the cluster forgot it. */
export interface LeaseHolder {
  id: string;
  endpoint: string;
  forgotten: boolean;
}

/** The refusal message for a read or a write; `stateOf` gives gossip's state of a member. */
export function noLeaseMessage(holder: LeaseHolder, what: 'read' | 'write', lease: WriteLease, stateOf: (id: string) => string | undefined): string {
  const { id: self, endpoint } = holder;
  if (holder.forgotten) {
    return `actor ${self} was forgotten by the cluster (\`dbslm store forget ${self}\`) and serves nothing any more; start it afresh with a new --id and an empty --data dir to rejoin`;
  }
  const missing = lease.missing();
  const consequence = what === 'read' ? 'it cannot tell whether it still owns the fork (a takeover may have given it away)' : 'it may not write';
  let msg = `actor ${self} holds no lease, so ${consequence}: it needs acks from ${lease.quorum()} of ${lease.memberCount()} members (itself included) within ${lease.durationMs} ms`;
  if (missing.length) msg += `; no recent ack from ${missing.map((id) => `${id} (${stateOf(id) ?? 'unknown'})`).join(', ')}`;
  const dead = missing.filter((id) => stateOf(id) === 'dead');
  if (!dead.length) return `${msg}; retry shortly`;
  // The live members are too few for a quorum (else the lease would hold), so no takeover can succeed before the
  // dead are forgotten: forget first (forced, as they may own forks), then take their forks over.
  const one = dead.length === 1;
  const steps = dead.map((id) => `\`dbslm store forget ${id} --force --connect ${endpoint}\` then \`dbslm store takeover ${id} --connect ${endpoint}\``).join('; ');
  return `${msg}; if ${dead.join(', ')} ${one ? 'is' : 'are'} gone for good, forget ${one ? 'it' : 'them'} so the quorum shrinks, then take ${one ? 'its' : 'their'} forks over (${steps}); retrying will not help until ${one ? 'it is' : 'they are'} back or forgotten`;
}
