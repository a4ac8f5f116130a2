// Progress on standard error for long work: one line per phase with its elapsed time, and a
// running percentage when stderr is a terminal. Quiet on short inputs so scripts stay clean.
export class Progress {
  private started = performance.now();
  private phaseStart = performance.now();
  private current = '';
  private lastDraw = 0;
  constructor(
    readonly command: string,
    public enabled: boolean,
  ) {}

  phase(name: string): void {
    this.endPhase();
    this.current = name;
    this.phaseStart = performance.now();
  }

  update(done: number, total: number): void {
    if (!this.enabled || !process.stderr.isTTY) return;
    const now = performance.now();
    if (now - this.lastDraw < 200) return;
    this.lastDraw = now;
    process.stderr.write(`\r${this.command}: ${this.current} ${((100 * done) / Math.max(1, total)).toFixed(0)}%`);
  }

  /** Ends the current phase, printing its time. */
  endPhase(): void {
    if (this.current && this.enabled) {
      const seconds = ((performance.now() - this.phaseStart) / 1000).toFixed(2);
      process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[K' : ''}${this.command}: ${this.current} done in ${seconds} s\n`);
    }
    this.current = '';
  }

  done(summary: string): void {
    this.endPhase();
    const rss = (process.resourceUsage().maxRSS / 1024).toFixed(0);
    if (this.enabled) process.stderr.write(`${this.command}: ${summary} (${((performance.now() - this.started) / 1000).toFixed(2)} s total, peak RSS ${rss} MB)\n`);
  }
}
