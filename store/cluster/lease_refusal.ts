// What an actor without a lease answers (FENCED, retryable): why it refuses, which members it waits for, and, when
// those are dead, what the operator has to do, because then retrying never helps (a 2-member cluster that lost one
// member waits for it forever unless it is forgotten).
import type { WriteLease } from './lease.js';

/** The refusal message for a read or a write; `stateOf` gives gossip's state of a member. */
export function noLeaseMessage(self: string, endpoint: string, what: 'read' | 'write', lease: WriteLease, stateOf: (id: string) => string | undefined): string {
  const missing = lease.missing();
  const consequence = what === 'read' ? 'it cannot tell whether it still owns the fork (a takeover may have given it away)' : 'it may not write';
  let msg = `actor ${self} holds no lease, so ${consequence}: it needs acks from ${lease.quorum()} of ${lease.memberCount()} members (itself included) within ${lease.durationMs} ms`;
  if (missing.length) msg += `; no recent ack from ${missing.map((id) => `${id} (${stateOf(id) ?? 'unknown'})`).join(', ')}`;
  const dead = missing.filter((id) => stateOf(id) === 'dead');
  if (!dead.length) return `${msg}; retry shortly`;
  const one = dead.length === 1;
  const steps = dead.map((id) => `\`dbslm store takeover ${id} --connect ${endpoint}\` then \`dbslm store forget ${id} --connect ${endpoint}\``).join('; ');
  return `${msg}; if ${dead.join(', ')} ${one ? 'is' : 'are'} gone for good, take ${one ? 'its' : 'their'} forks over and forget ${one ? 'it' : 'them'} so the quorum shrinks (${steps}); retrying will not help until ${one ? 'it is' : 'they are'} back or forgotten`;
}
