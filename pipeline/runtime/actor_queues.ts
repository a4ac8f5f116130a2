// The small queues a stage actor is built from. No sockets here: they are fed and drained by
// stage_actor.ts.
//   - SerialSender: zeromq.js allows one send at a time per socket; sends are chained.
//   - Inbox: decoded input waiting for the stage operator, as an async iterable `from()` can
//     consume; `end()` completes it.
//   - Signal: a promise-based "something changed" for loops that wait on counts.

/** One send at a time on a socket, in call order. */
export class SerialSender {
  private tail: Promise<void> = Promise.resolve();
  constructor(private readonly sendOne: (msg: Buffer) => Promise<void>) {}

  send(msg: Buffer): Promise<void> {
    const next = this.tail.then(() => this.sendOne(msg));
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/** Wakes every waiter on `notify()`; waiters re-check their condition. */
export class Signal {
  private waiters: (() => void)[] = [];

  notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async until(cond: () => boolean): Promise<void> {
    while (!cond()) await this.wait();
  }
}

/** Items for the stage operator; iterating takes them in order and ends after `end()`. */
export class Inbox<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private ended = false;
  /** `changed` is notified whenever an item is pushed or taken, or the inbox ends. */
  constructor(private readonly changed: Signal) {}

  // Not `length`: RxJS from() would take the inbox for an array.
  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    this.items.push(item);
    this.changed.notify();
  }

  end(): void {
    this.ended = true;
    this.changed.notify();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      await this.changed.until(() => this.items.length > 0 || this.ended);
      if (this.items.length === 0) return;
      const item = this.items.shift()!;
      this.changed.notify();
      yield item;
    }
  }
}
