// The errors a store client reports for what an actor answered, or for what it learned instead of an answer.
import type { MemberState } from '../../schemas/fork_map.js';

/** An error reply from an actor. */
export class StoreReplyError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly endpoint: string,
  ) {
    super(`${code} from ${endpoint}: ${message}`);
  }
}

/**
 * The actor a request went to stopped answering and another member holds it dead (or forgotten): its forks are out of
 * reach until it is back or they are taken over. Code OWNER_DEAD; the message names the command that helps.
 */
export class MemberDeadError extends StoreReplyError {
  constructor(
    readonly member: string,
    readonly state: Extract<MemberState, 'dead' | 'left'>,
    endpoint: string,
    /** The member that said so, and its endpoint (where the operator can run the takeover). */
    readonly reportedBy: { id: string; endpoint: string },
    readonly fork?: string,
  ) {
    const who = fork ? `owner ${member} of fork ${fork}` : `member ${member}`;
    const gone = state === 'dead' ? 'dead' : 'forgotten by the cluster';
    const restart = state === 'dead' ? `, or restart ${member} on its data dir` : '';
    super('OWNER_DEAD', `${who} is ${gone} (so says ${reportedBy.id}): its rows are out of reach; take its forks over with \`dbslm store takeover ${member} --connect ${reportedBy.endpoint}\` (they restart empty)${restart}`, endpoint);
  }

  /** The same news, naming the fork the request was for. */
  forFork(fork: string): MemberDeadError {
    return new MemberDeadError(this.member, this.state, this.endpoint, this.reportedBy, fork);
  }
}
