// The tap of one stage actor: a copy of each message leaving the stage, for `dbslm pipeline tap`,
// published ONLY while a tap is subscribed, and never at the stage's expense:
//   - an XPUB socket tells us when subscribers come and go (non-verbose: the first subscription to
//     a topic arrives as 1+topic, the last one leaving as 0+topic, also when a tap process dies), so
//     with nobody there a message is not even encoded (the sink stage encodes its CountBatch only
//     for a tap);
//   - a send is never awaited by the stage: offer() starts one and returns; while one is still
//     pending the next message is skipped (zeromq.js allows one send at a time per socket);
//   - the send high-water mark is small (TAP_HWM) and a PUB-type socket drops at it instead of
//     blocking (noDrop off), so a slow tap loses messages, the stage loses nothing.
// A tap is a sample, not a complete record: messages are skipped whenever the tap falls behind.
import zmq from 'zeromq';

/** Messages queued per tap subscriber before further ones are dropped. */
export const TAP_HWM = 4;

export class TapPublisher {
  private readonly socket = new zmq.XPublisher({ sendHighWaterMark: TAP_HWM, linger: 0 });
  private topics = 0;
  private sending = false;
  private closed = false;

  /** Binds `endpoint` (retrying while a predecessor's socket is released) and starts following subscriptions. */
  async bind(endpoint: string, forMs = 5000): Promise<void> {
    const deadline = performance.now() + forMs;
    for (;;) {
      try {
        await this.socket.bind(endpoint);
        break;
      } catch (err) {
        if ((err as { code?: string }).code !== 'EADDRINUSE' || performance.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    void this.follow();
  }

  /** Whether a tap is subscribed now (then offer() publishes). */
  get listening(): boolean {
    return this.topics > 0 && !this.closed;
  }

  /** Publish `message()` if a tap listens and no send is pending; never waits. */
  offer(message: () => Buffer): void {
    if (!this.listening || this.sending) return;
    let bytes: Buffer;
    try {
      bytes = message();
    } catch {
      return; // not encodable as the tapped type (a test sink's output): nothing to show
    }
    this.sending = true;
    this.socket.send(bytes).then(
      () => {
        this.sending = false;
      },
      () => {
        this.sending = false;
      },
    );
  }

  close(): void {
    this.closed = true;
    this.socket.close();
  }

  private async follow(): Promise<void> {
    try {
      for await (const [msg] of this.socket) {
        if (msg!.length === 0) continue;
        if (msg![0] === 1) this.topics++;
        else if (msg![0] === 0) this.topics = Math.max(0, this.topics - 1);
      }
    } catch {
      // the socket closed
    }
  }
}
