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
}

/**
 * The seq StoreClient will give its next batch group. The client keeps it private; a batch whose keys all lie in
 * one fork is one group, so this is that batch's (producer, seq).
 */
function nextSeqOf(client: StoreClient): number {
  return (client as unknown as { nextSeq: number }).nextSeq;
}

/** One lane: owns the set keys with index % lanes == lane, so the sets of one key never overlap in time. */
export async function runLane(o: LaneOptions): Promise<void> {
  const { rng, layout, history } = o;
  const client = await StoreClient.connect(o.endpoints, { timeoutMs: o.timeoutMs, retries: o.retries, producer: `lane${o.lane}-${Math.floor(rng() * 1e9)}` });
  const mySets: number[] = [];
  for (let k = o.lane; k < layout.setKeys; k += o.lanes) mySets.push(k);
  const seqOf = new Map<number, number>();
  const pick = <T>(xs: T[]): T => xs[Math.floor(rng() * xs.length)]!;
  try {
    for (let n = 0; n < o.maxOps && performance.now() < o.untilMs; n++) {
      // Every draw happens in the same order whatever the outcome, so a seed replays the same choices.
      const kind = rng();
      const setKey = pick(mySets);
      const ctx = Math.floor(rng() * layout.contexts);
      const counters = layout.countersOf(ctx).filter(() => rng() < 0.6);
      const deltas = layout.countersOf(ctx).map(() => 1 + Math.floor(rng() * 3));
      const readSpace = rng() < 0.5 ? ('set' as const) : ('counter' as const);
      const readKey = Math.floor(rng() * (readSpace === 'set' ? layout.setKeys : layout.counterKeys));
      const pause = 1 + rng() * 5;
      const refreshVia = rng() < 0.08 ? o.endpoints[Math.floor(rng() * o.endpoints.length)] : undefined;
      // Now and then the lane refetches the map from a random member, as a long-lived client polling the map would:
      // lanes then disagree about where a fork lives right after a cut-over, which is when reads can go stale.
      if (refreshVia) await client.refreshMap(refreshVia).catch(() => undefined);
      let outcome: string;
      if (kind < 0.35) {
        const seq = (seqOf.get(setKey) ?? 0) + 1;
        seqOf.set(setKey, seq);
        outcome = await history.set(setKey, seq, () => client.set(layout.setKey(setKey), setValue(setKey, seq)));
      } else if (kind < 0.7) {
        const ops = (counters.length ? counters : layout.countersOf(ctx).slice(0, 1)).map((key) => ({ key, delta: deltas[layout.countersOf(ctx).indexOf(key)]! }));
        const seq = nextSeqOf(client);
        outcome = await history.incr(client.producer, seq, ops, () => client.batch(ops.map(({ key, delta }) => ({ op: 'incr' as const, key: layout.counterKey(key), delta }))));
      } else {
        outcome = await history.read(readSpace, readKey, () => client.get(readSpace === 'set' ? layout.setKey(readKey) : layout.counterKey(readKey)));
      }
      // A real client refetches the map after a failure: StoreClient itself never does on timeouts.
      if (outcome !== 'ok') await client.refreshMap().catch(() => undefined);
      await sleep(pause);
    }
  } finally {
    client.close();
  }
}
