// The store client's channel to one actor (store/client/request_channel.ts), tuned for throughput:
// pipelined requests leave in bundles, the queues are deep, and a full queue waits rather than drops.
import { RequestChannel } from './request_channel.js';

export class TimeoutError extends Error {
  constructor(
    readonly endpoint: string,
    readonly cmd: string,
    readonly ms: number,
  ) {
    super(`store request ${cmd} to ${endpoint} got no reply within ${ms} ms (actor down or overloaded?)`);
  }
}

export interface ConnectionOptions {
  /**
   * CURVE: the actors' public key (z85; default: env DBSLM_STORE_CURVE_PUBLIC, the key members are
   * started with). The client generates its own key pair.
   */
  curveServerKey?: string;
}

/** When the actor stays silent with requests pending (see RequestChannelOptions.onStall). */
export interface StallWatch {
  onStall: () => void;
  stallMs: number;
}

/**
 * Requests per bundle (one frame), bounded so the actor can commit and ack part of a long burst
 * while the rest is still arriving. 128, not 512: 256 pipelined gets used to leave as one bundle,
 * so client and actor took turns (actor event loop ~50% busy); in two bundles each side works on
 * one while the other is away (measured ~100k -> ~150-160k gets/s at 256 in flight). Keep it >=
 * the actor's commit-early threshold of 64 requests per message, or the acks wait for the end of
 * the actor's turn.
 */
const BUNDLE_MAX_REQUESTS = 128;

export class Connection extends RequestChannel {
  constructor(endpoint: string, opts: ConnectionOptions = {}, stall?: StallWatch) {
    super(endpoint, {
      ...stall,
      maxBundle: BUNDLE_MAX_REQUESTS,
      sendHighWaterMark: 100000,
      receiveHighWaterMark: 100000,
      curveServerKey: opts.curveServerKey ?? process.env.DBSLM_STORE_CURVE_PUBLIC,
      timeoutError: (cmd, ms) => new TimeoutError(endpoint, cmd, ms),
    });
  }
}
