// What a store actor reports to a pipeline's metrics hub (the `metrics` command): requests and
// bytes in, replies and bytes out, error replies. Each is one increment where the actor already
// touches the message, so counting costs nothing next to a request. Busy time is not counted here:
// the handler reads the event loop's own utilization (performance.eventLoopUtilization), which
// covers request handling and group commits alike at no cost per request.

export class ActorLoad {
  requests = 0;
  bytesIn = 0;
  replies = 0;
  bytesOut = 0;
  errors = 0;

  /** Counted as each request is dispatched, so a handler (`metrics`) sees itself counted. */
  request(): void {
    this.requests++;
  }

  frame(bytes: number): void {
    this.bytesIn += bytes;
  }

  replied(bytes: number): void {
    this.replies++;
    this.bytesOut += bytes;
  }

  failed(): void {
    this.errors++;
  }
}
