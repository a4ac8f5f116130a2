// What a client does when an actor stops answering: instead of waiting out its timeout, it asks another member
// (`members`) whether that actor is dead. If it is (or was forgotten), what waits on it fails at once with
// MemberDeadError, and so does whatever is sent to it for a little while after; the answer also carries that
// member's map, so forks taken over meanwhile are found at their new owners. A member that is only slow is left alone.
import { CLUSTER_COMMANDS, type MembersReply } from '../../schemas/cluster.js';
import type { Reply } from '../../schemas/envelope.js';
import { MemberDeadError } from './reply_errors.js';

/** How long a member found dead is taken for dead without asking again. */
const REMEMBER_MS = 2000;
const ASK_TIMEOUT_MS = 2000;

export type Ask = (endpoint: string, cmd: string, body: Buffer, timeoutMs: number) => Promise<Reply>;

export class DeadMembers {
  private readonly found = new Map<string, { error: MemberDeadError; until: number }>();
  private readonly checking = new Set<string>();

  constructor(private readonly ask: Ask) {}

  /** The error of `member` if it was found dead lately. */
  errorFor(member: string): MemberDeadError | undefined {
    const f = this.found.get(member);
    if (f && f.until > performance.now()) return f.error;
    if (f) this.found.delete(member);
    return undefined;
  }

  /**
   * Asks the members at `others`, one after the other until one answers, whether `member` (at `endpoint`) is dead.
   * Resolves with the answering member's view and, if dead, the error; null when nobody answered (or a check of this
   * endpoint is running already).
   */
  async check(member: string | undefined, endpoint: string, others: string[]): Promise<{ view: MembersReply; dead: MemberDeadError | null } | null> {
    if (this.checking.has(endpoint)) return null;
    this.checking.add(endpoint);
    try {
      for (const other of others) {
        let view: MembersReply;
        try {
          const rep = await this.ask(other, 'members', CLUSTER_COMMANDS.members.encodeRequest({}), ASK_TIMEOUT_MS);
          if (rep.code !== 'OK') continue; // not a cluster member, or stopping
          view = CLUSTER_COMMANDS.members.decodeReply(rep.body);
        } catch {
          continue;
        }
        const m = view.members.find((x) => x.id === member) ?? view.members.find((x) => x.endpoint === endpoint);
        if (!m || (m.state !== 'dead' && m.state !== 'left')) return { view, dead: null };
        const error = new MemberDeadError(m.id, m.state, endpoint, { id: view.id, endpoint: other });
        this.found.set(m.id, { error, until: performance.now() + REMEMBER_MS });
        return { view, dead: error };
      }
      return null;
    } finally {
      this.checking.delete(endpoint);
    }
  }
}
