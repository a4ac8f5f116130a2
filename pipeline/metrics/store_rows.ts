// The store actors' rows of the metrics view: each interval the hub asks every store actor for its
// `metrics` counters (one request each, all at once, answered from counters the actor keeps as it
// goes: store/actor/actor_load.ts). An actor that does not answer within the timeout keeps its last
// totals and shows as down; one that restarted (its uptime went back) continues its totals from
// where they were and counts a restart.
import type { MetricsReply } from '../../schemas/admin.js';
import type { MetricsRow } from '../../schemas/metrics.js';
import { STORE_COMMANDS } from '../../schemas/store.js';
import { Connection } from '../../store/client/connection.js';
import { COUNTERS, row, type CounterName } from './view.js';

export interface StoreActorRef {
  /** The actor id, the row's name (the definition's `NAME-store-N`, or what the actor reports when not known). */
  id: string;
  endpoint: string;
}

interface ActorState {
  ref: StoreActorRef;
  conn: Connection;
  last: MetricsReply | null;
  /** Totals of the actor's runs before the current one. */
  base: Record<CounterName, number> & { busyMs: number };
  up: boolean;
}

const counters = (m: MetricsReply): Record<CounterName, number> & { busyMs: number } => ({
  itemsIn: m.requests,
  itemsOut: m.replies,
  bytesIn: m.bytesIn,
  bytesOut: m.bytesOut,
  errors: m.errors,
  restarts: 0,
  busyMs: m.busyMs,
});

export class StoreRows {
  private readonly actors: ActorState[];
  private polling: Promise<void> | null = null;

  constructor(
    refs: readonly StoreActorRef[],
    private readonly timeoutMs: number,
  ) {
    this.actors = refs.map((ref) => ({ ref, conn: new Connection(ref.endpoint), last: null, base: { itemsIn: 0, itemsOut: 0, bytesIn: 0, bytesOut: 0, errors: 0, restarts: 0, busyMs: 0 }, up: false }));
  }

  /** Ask every actor once; a poll still running from the last interval is awaited, not doubled. */
  poll(): Promise<void> {
    this.polling ??= Promise.all(this.actors.map((a) => this.pollOne(a))).then(() => {
      this.polling = null;
    });
    return this.polling;
  }

  rows(): MetricsRow[] {
    return this.actors.map((a) => {
      const now = a.last ? counters(a.last) : a.base;
      const totals = { ...now, busyMs: a.base.busyMs + (a.last ? now.busyMs : 0) };
      for (const c of COUNTERS) totals[c] = a.base[c] + (a.last ? now[c] : 0);
      return row('store', a.ref.id, 1, totals, { inFlight: a.last?.inFlight ?? 0, queueDepth: a.last?.queueDepth ?? 0, p50Ms: null, p99Ms: null, up: a.up });
    });
  }

  close(): void {
    for (const a of this.actors) a.conn.close();
  }

  private async pollOne(a: ActorState): Promise<void> {
    try {
      const reply = await a.conn.request('metrics', STORE_COMMANDS.metrics.encodeRequest({}), this.timeoutMs);
      if (reply.code !== 'OK') throw new Error(`${reply.code}: ${reply.message}`);
      const m = STORE_COMMANDS.metrics.decodeReply(reply.body);
      if (a.last && m.uptimeMs < a.last.uptimeMs) {
        const before = counters(a.last);
        for (const c of COUNTERS) a.base[c] += before[c];
        a.base.busyMs += before.busyMs;
        a.base.restarts += 1;
      }
      a.last = m;
      a.up = true;
    } catch {
      a.up = false; // shown as down; the next interval asks again
    }
  }
}
