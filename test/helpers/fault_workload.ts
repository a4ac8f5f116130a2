// The client traffic of a fault run: lanes (one StoreClient each, so one producer id each) doing exactly-once
// increment batches, sets of ever-newer values and reads, every one recorded in the History. Keys live in a few
// "hot" contexts (routing prefixes), so all keys of one context share one fork: the forks the injector moves.
import { StoreClient, type ClientOp } from '../../store/client/client.js';
import { makeKey } from '../../store/protocol/keys.js';
import { History, setValue } from './fault_history.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Which keys exist and where: `contexts` routing prefixes holding set keys, counter keys and filler rows. */
export class KeyLayout {
  constructor(
    readonly tag: string,
    readonly contexts: number,
    readonly setsPerContext: number,
    readonly countersPerContext: number,
    readonly fillerPerContext: number,
  ) {}

  get setKeys(): number { return this.contexts * this.setsPerContext; }
  get counterKeys(): number { return this.contexts * this.countersPerContext; }

  private prefix(ctx: number): Buffer { return Buffer.from(`${this.tag}-h${ctx}`); }
  contextKey(ctx: number): Buffer { return makeKey('ft', this.prefix(ctx)); }
  setKey(i: number): Buffer { return makeKey('ft', this.prefix(i % this.contexts), Buffer.from(`s${i}`)); }
  counterKey(i: number): Buffer { return makeKey('ft', this.prefix(i % this.contexts), Buffer.from(`c${i}`)); }
  countersOf(ctx: number): number[] { return Array.from({ length: this.countersPerContext }, (_, j) => ctx + j * this.contexts); }
  fillerKey(ctx: number, j: number): Buffer { return makeKey('ft', this.prefix(ctx), Buffer.from(`f${j}`)); }
  /** Every filler key of a context starts with this. */
  fillerPrefix(ctx: number): Buffer { return makeKey('ft', this.prefix(ctx), Buffer.from('f')); }
  /** Inside the context's fork, but no key of this layout starts with it. */
  emptyPrefix(ctx: number): Buffer { return makeKey('ft', this.prefix(ctx), Buffer.from('zz-none')); }
}

/**
 * Filler rows, so a move of a hot fork streams a snapshot of several chunks (4096 rows each) before its tail
 * rounds: a fault then lands between chunks, not only before or after a one-chunk move. Checked at the end too.
 */
export async function preload(client: StoreClient, layout: KeyLayout): Promise<void> {
  const filler = Buffer.alloc(64, 0x66);
  const per = 4000;
  for (let ctx = 0; ctx < layout.contexts; ctx++) {
    for (let j = 0; j < layout.fillerPerContext; j += per) {
      const ops: ClientOp[] = [];
      for (let n = j; n < Math.min(j + per, layout.fillerPerContext); n++) ops.push({ op: 'set', key: layout.fillerKey(ctx, n), value: filler });
      await client.batch(ops);
    }
  }
}

export interface LaneOptions {
  lane: number;
  lanes: number;
  rng: () => number;
  layout: KeyLayout;
  history: History;
  endpoints: string[];
  /** The lane stops by itself at this time (performance.now) or after maxOps operations. */
  untilMs: number;
  maxOps: number;
  /** Client per-attempt timeout and retries (kept short: faults last about the dead-after bound). */
  timeoutMs: number;
  retries: number;
  /** Operations outstanding per lane, and the mean pause between starting two. */
  inFlight: number;
  pauseMs: number;
  /** Odds per operation of refetching the map from a random member first. */
  refreshOdds: number;
  /** Only reads (a client with a cached map that reads, like a query service); owns no set keys. */
  readOnly: boolean;
}

/**
 * The seq StoreClient will give its next batch group. The client keeps it private; a batch whose keys all lie in
 * one fork is one group, so this is that batch's (producer, seq).
 */
function nextSeqOf(client: StoreClient): number {
  return (client as unknown as { nextSeq: number }).nextSeq;
}

/**
 * One lane: one client with up to `inFlight` operations outstanding per owner, so operations hanging on a frozen or
 * dead actor do not stop the lane's traffic to the others (which is what lets it learn a new owner and write there
 * while an old owner is down); an operation whose owner is saturated is skipped. The lane owns the set keys with index % lanes == lane and keeps at most one set per
 * key in flight, so the sets of one key never overlap in time and their seqs order them.
 */
export async function runLane(o: LaneOptions): Promise<void> {
  const { rng, layout, history } = o;
  const client = await StoreClient.connect(o.endpoints, { timeoutMs: o.timeoutMs, retries: o.retries, producer: `lane${o.lane}-${Math.floor(rng() * 1e9)}` });
  const mySets: number[] = [];
  if (!o.readOnly) for (let k = o.lane; k < layout.setKeys; k += o.lanes) mySets.push(k);
  const seqOf = new Map<number, number>();
  const setting = new Set<number>();
  const running = new Set<Promise<void>>();
  const pick = <T>(xs: T[]): T => xs[Math.floor(rng() * xs.length)]!;
  // Outstanding operations per owner (by the lane's map): an owner that stopped answering holds at most `inFlight`
  // of them, and the lane's traffic to the other owners goes on.
  const perOwner = new Map<string, number>();
  const ownerBusy = (key: Buffer) => (perOwner.get(client.locate(key).owner) ?? 0) >= o.inFlight;
  const after = (key: Buffer, outcome: () => Promise<string>) => {
    const owner = client.locate(key).owner;
    perOwner.set(owner, (perOwner.get(owner) ?? 0) + 1);
    // A real client refetches the map after a failure: StoreClient itself never does on timeouts.
    const p: Promise<void> = outcome()
      .then((o) => (o === 'ok' ? undefined : client.refreshMap().catch(() => undefined)))
      .finally(() => {
        perOwner.set(owner, perOwner.get(owner)! - 1);
        running.delete(p);
      });
    running.add(p);
  };
  try {
    for (let n = 0; n < o.maxOps && performance.now() < o.untilMs; n++) {
      // Every draw happens in the same order whatever the outcome, so a seed replays the same choices.
      const kind = rng();
      const setKey = mySets.length ? pick(mySets) : undefined;
      const ctx = Math.floor(rng() * layout.contexts);
      const counters = layout.countersOf(ctx).filter(() => rng() < 0.6);
      const deltas = layout.countersOf(ctx).map(() => 1 + Math.floor(rng() * 3));
      const readSpace = rng() < 0.5 ? ('set' as const) : ('counter' as const);
      const readKey = Math.floor(rng() * (readSpace === 'set' ? layout.setKeys : layout.counterKeys));
      const pause = o.pauseMs * (0.5 + rng());
      const refreshVia = rng() < o.refreshOdds ? o.endpoints[Math.floor(rng() * o.endpoints.length)] : undefined;
      while (running.size >= 3 * o.inFlight) await Promise.race(running);
      // Now and then the lane refetches the map from a random member, as a client polling the map would; lanes do so
      // at different rates (readers never), so right after a cut-over some write to the new owner while others still
      // read from the old one, which is when reads can go stale.
      if (refreshVia) void client.refreshMap(refreshVia).catch(() => undefined);
      const readKeyBytes = readSpace === 'set' ? layout.setKey(readKey) : layout.counterKey(readKey);
      if (o.readOnly || kind >= 0.7 || setKey === undefined) {
        if (!ownerBusy(readKeyBytes)) after(readKeyBytes, () => history.read(readSpace, readKey, () => client.get(readKeyBytes)));
      } else if (kind < 0.35 && !setting.has(setKey)) {
        const key = layout.setKey(setKey);
        if (!ownerBusy(key)) {
          const seq = (seqOf.get(setKey) ?? 0) + 1;
          seqOf.set(setKey, seq);
          setting.add(setKey);
          after(key, () => history.set(setKey, seq, () => client.set(key, setValue(setKey, seq))).finally(() => setting.delete(setKey)));
        }
      } else {
        const ops = (counters.length ? counters : layout.countersOf(ctx).slice(0, 1)).map((key) => ({ key, delta: deltas[layout.countersOf(ctx).indexOf(key)]! }));
        const keys = ops.map(({ key }) => layout.counterKey(key));
        // Read the seq and call batch in one synchronous step, so no other batch of this client takes it.
        if (!ownerBusy(keys[0]!)) after(keys[0]!, () => history.incr(client.producer, nextSeqOf(client), ops, () => client.batch(ops.map(({ delta }, j) => ({ op: 'incr' as const, key: keys[j]!, delta })))));
      }
      await sleep(pause);
    }
    await Promise.all(running);
  } finally {
    client.close();
  }
}
