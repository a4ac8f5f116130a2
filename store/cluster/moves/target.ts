// Runs the target machine (target_machine.ts) against the real actor: each request of a source becomes an event,
// and its actions are carried out in order before the reply. Requests for one fork are handled one after another,
// so the rows land in the order the source sent them even while an import waits for its commit.
import type { MoveAbort, MoveChunk, MoveCutOver, MoveVerify, MoveVerifyReply } from '../../../schemas/moves.js';
import type { StoreActor } from '../../actor/actor.js';
import { StoreError } from '../../protocol/errors.js';
import { digestOfFork, type ForkDigest } from './digest.js';
import { TargetMachine, type TargetAction, type TargetEvent } from './target_machine.js';

export class TargetSide {
  private readonly machine: TargetMachine;
  /** The tail of each fork's chain of requests. */
  private readonly chains = new Map<string, Promise<void>>();

  /** `handingOver(fork)`: this actor still moves the fork out, resolves its cut-over or takes it over. */
  constructor(private readonly actor: StoreActor, private readonly handingOver: (fork: string) => boolean) {
    this.machine = new TargetMachine(actor.id);
  }

  chunk(request: MoveChunk): Promise<void> {
    return this.serially(request.fork, () => ({ kind: 'chunk', request, ownsFork: this.actor.owns(request.fork), handingOver: this.handingOver(request.fork) }));
  }

  /** Answers with this actor's own count and digest of the rows it imported. */
  async verify(request: MoveVerify): Promise<MoveVerifyReply> {
    let local: ForkDigest | null = null;
    await this.serially(request.fork, async () => {
      local = await digestOfFork(this.actor, request.fork);
      return { kind: 'verify', request, local };
    });
    return local!;
  }

  cutOver(request: MoveCutOver): Promise<void> {
    return this.serially(request.fork, () => ({ kind: 'cutover', request, current: this.actor.map.get(request.fork) }));
  }

  abort(request: MoveAbort): Promise<void> {
    return this.serially(request.fork, () => ({ kind: 'abort', request }));
  }

  /** The event is built when its turn comes, so it sees the state the earlier requests left. */
  private serially(fork: string, event: () => TargetEvent | Promise<TargetEvent>): Promise<void> {
    const prev = this.chains.get(fork) ?? Promise.resolve();
    const mine = prev.then(async () => this.run(this.machine.handle(await event())));
    const tail = mine.catch(() => {});
    this.chains.set(fork, tail);
    void tail.then(() => {
      if (this.chains.get(fork) === tail) this.chains.delete(fork);
    });
    return mine;
  }

  private async run(actions: TargetAction[]): Promise<void> {
    const a = this.actor;
    for (const action of actions) {
      switch (action.kind) {
        case 'drop-fork':
          await a.dropFork(action.fork);
          break;
        case 'import':
          await a.importChunk(action.chunk);
          break;
        case 'adopt':
          try {
            a.applyMap(a.map.withEntry(action.entry));
          } catch (err) {
            throw new StoreError('BAD_REQUEST', (err as Error).message);
          }
          break;
        case 'ack':
          return;
        case 'refuse':
          throw new StoreError(action.code, action.message, action.retryable);
      }
    }
  }
}
