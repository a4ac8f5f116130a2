// What a stage is: one typed RxJS operator, pure, in a file of its own. It opens no socket and
// knows no neighbour; the pipeline runtime (pipeline/runtime/) feeds it the messages that reach
// its stage actor and sends what it emits downstream. CPU-heavy work goes through `compute`, which
// the runtime backs with a piscina pool (or runs inline in tests), so the operator stays pure.
import type { OperatorFunction } from 'rxjs';

export type Stage<In, Out> = OperatorFunction<In, Out>;

/** Runs a named task of a stage's task module (stages/tasks.ts) on the stage's worker pool. */
export type Compute = <In, Out>(task: string, input: In) => Promise<Out>;
