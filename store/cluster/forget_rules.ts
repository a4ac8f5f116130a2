// Which members `dbslm store forget` refuses to forget, as a pure function:
// - an unknown member, or one alive or suspect: forgetting a member that still runs would let two sides of a
//   partition each make a quorum; only a dead one can go (stopped, or its machine lost);
// - a dead member that still owns forks, unless forced: its forks should be taken over first. When the live members
//   are too few for a quorum without it (a 2-member cluster), no takeover can succeed before it is forgotten, so the
//   message says to force the forget first; its forks then stay unserved until they are taken over.
// A member already forgotten is forgotten again (idempotent: the news is sent around once more).
import type { MemberState } from '../../schemas/fork_map.js';

export interface ForgetCase {
  member: string;
  state: MemberState | undefined;
  ownedForks: number;
  force: boolean;
  memberIds: string[];
  /** The endpoint of the member asked, for the commands the message suggests. */
  endpoint: string;
}

/** Why the member may not be forgotten, or null. */
export function forgetRefusal(c: ForgetCase): string | null {
  if (c.state === undefined) return `no member ${JSON.stringify(c.member)}; members: ${c.memberIds.join(', ')}`;
  if (c.state === 'alive' || c.state === 'suspect') {
    return `member ${c.member} is ${c.state}: only a dead member can be forgotten (forgetting one that still runs would let it and the others each make a quorum); stop it first (\`dbslm store stop\` at its endpoint) and wait until \`dbslm store status --connect ${c.endpoint}\` shows it dead`;
  }
  if (c.state === 'dead' && c.ownedForks > 0 && !c.force) {
    return `member ${c.member} still owns ${c.ownedForks} forks; take them over first (\`dbslm store takeover ${c.member} --connect ${c.endpoint}\`), then forget it; if the live members are too few for a quorum without it (as in a 2-member cluster), forget it first with --force (\`dbslm store forget ${c.member} --force --connect ${c.endpoint}\`) and take its forks over after: they stay unserved until then`;
  }
  return null;
}
