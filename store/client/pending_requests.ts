// The requests of one request channel that await their replies: found by request id when a reply
// arrives, expired by deadline when none does. Pure: the caller says what time it is, so the
// timeout rules are unit-tested on a fake clock (store/client/request_channel.ts does the IO).
import type { Reply } from '../../schemas/envelope.js';

export interface PendingRequest {
  resolve: (reply: Reply) => void;
  reject: (err: Error) => void;
  cmd: string;
  /** Expires once the clock reaches this (ms, the caller's clock). */
  deadline: number;
  timeoutMs: number;
}

export class PendingRequests {
  private readonly byId = new Map<number, PendingRequest>();

  get size(): number {
    return this.byId.size;
  }

  add(id: number, request: PendingRequest): void {
    this.byId.set(id, request);
  }

  /** The request a reply answers, no longer pending; undefined for a late reply to an expired request (or id 0). */
  settle(id: number): PendingRequest | undefined {
    const request = this.byId.get(id);
    if (request) this.byId.delete(id);
    return request;
  }

  /** When the request waiting longest was sent (Infinity when none waits): requests are kept in the order sent. */
  oldestSentAt(): number {
    for (const request of this.byId.values()) return request.deadline - request.timeoutMs;
    return Infinity;
  }

  /** The requests whose deadline has come by `now`, no longer pending. */
  expire(now: number): PendingRequest[] {
    const expired: PendingRequest[] = [];
    for (const [id, request] of this.byId) {
      if (request.deadline > now) continue;
      this.byId.delete(id);
      expired.push(request);
    }
    return expired;
  }

  /** Every pending request, none pending afterwards (the channel closed or its socket failed). */
  drain(): PendingRequest[] {
    const all = [...this.byId.values()];
    this.byId.clear();
    return all;
  }
}
