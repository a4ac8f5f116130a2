// Wakes a socket's send loop. ZeroMQ allows one send at a time per socket, so each socket has one
// loop that sends whatever is queued and then waits here. Producers wake it after the current
// event-loop turn, so that what a burst queued leaves together (one bundle, one syscall), or at
// once when waiting longer would only delay replies that are ready (a commit just released them).
export class SendSignal {
  private waiter: (() => void) | null = null;
  private scheduled = false;

  /** Resolves at the next wake-up. */
  wait(): Promise<void> {
    return new Promise<void>((resolve) => (this.waiter = resolve));
  }

  /** Wake the loop after this event-loop turn (once, however often it is called meanwhile). */
  afterTurn(): void {
    if (!this.waiter || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.now();
    });
  }

  /** Wake the loop at once. */
  now(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }
}
