// Replies an actor dropped because their peer does not read them: a running total (the `stats`
// reply carries it) and a line on stderr at most once per period naming how many replies went to
// how many peers, so an operator sees a stuck or hostile client without the log flooding.

/** At most one stderr line per this many ms. */
export const DROP_REPORT_EVERY_MS = 10_000;

export class ReplyDrops {
  /** Replies dropped since the actor started. */
  total = 0;
  private windowReplies = 0;
  private readonly windowPeers = new Set<string>();
  private lastReportAt = -Infinity;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly report: (line: string) => void,
    private readonly everyMs = DROP_REPORT_EVERY_MS,
  ) {}

  /** `replies` replies to `peer` (its routing id as latin1) were dropped. */
  add(peer: string, replies: number): void {
    this.total += replies;
    this.windowReplies += replies;
    this.windowPeers.add(peer);
    if (this.timer) return;
    // The first line comes after the current burst, the next ones a period apart.
    this.timer = setTimeout(() => this.flush(), Math.max(0, this.lastReportAt + this.everyMs - Date.now()));
    this.timer.unref();
  }

  /** Report what the current period dropped, if anything. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.windowReplies) return;
    const peers = this.windowPeers.size;
    this.report(
      `dropped ${this.windowReplies} repl${this.windowReplies === 1 ? 'y' : 'ies'} to ${peers} peer${peers === 1 ? '' : 's'} that do not read them ` +
        `(${this.total} since start); their clients time out and retry`,
    );
    this.windowReplies = 0;
    this.windowPeers.clear();
    this.lastReportAt = Date.now();
  }

  stop(): void {
    this.flush();
  }
}
