// Per-fork request counts of one actor and their rate over the last second, for `stats` (and so
// for `store status` and the rebalance planner's `--by ops`). Every key a request routes counts
// one op on its fork; a batch counts one per row.

export class ForkRates {
  private readonly ops = new Map<string, number>();
  private readonly perSecond = new Map<string, number>();
  private readonly atLastSample = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  count(fork: string, n = 1): void {
    this.ops.set(fork, (this.ops.get(fork) ?? 0) + n);
  }

  /** Ops counted on `fork` since the actor started. */
  opsOf(fork: string): number {
    return this.ops.get(fork) ?? 0;
  }

  /** Ops counted on `fork` during the last whole second sampled. */
  opsPerSecondOf(fork: string): number {
    return this.perSecond.get(fork) ?? 0;
  }

  /** Sample once a second until `stop` (the timer does not keep the process alive). */
  start(): void {
    this.timer ??= setInterval(() => this.sample(), 1000).unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private sample(): void {
    for (const [fork, n] of this.ops) {
      this.perSecond.set(fork, n - (this.atLastSample.get(fork) ?? 0));
      this.atLastSample.set(fork, n);
    }
  }
}
