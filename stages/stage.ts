// What a stage is: one typed RxJS operator, pure, in a file of its own. It opens no socket and
// knows no neighbour; the pipeline runtime (pipeline/runtime/) feeds it the messages that reach
// its stage actor and sends what it emits downstream. CPU-heavy work goes through `compute`, which
// the runtime backs with a piscina pool (or runs inline in tests), so the operator stays pure.
import type { OperatorFunction } from 'rxjs';

export type Stage<In, Out> = OperatorFunction<In, Out>;

/**
 * Runs a named task of a stage's task module (stages/tasks.ts) on the stage's worker pool. `room`,
 * when the runtime gives it, resolves once the actor's queue of outputs waiting to leave has room:
 * a source that would read ahead of the credits (its operator is not held back by them) waits on
 * it, so it holds a few batches, not its whole input. Inline computes in tests have none.
 */
export type Compute = (<In, Out>(task: string, input: In) => Promise<Out>) & { room?: () => Promise<void> };
