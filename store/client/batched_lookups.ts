// Lookups by context (word ids) asked for in one turn of the event loop, read together and cached:
// the decoder asks for every length of a history at once, and for a draft's positions, and each
// of those would otherwise be a request of its own. The read waits for the end of the turn, not
// for the end of the microtasks: streams generating at once on one engine resume in one turn when
// their replies arrive together, each a few promise hops apart, and then share one read. `readMany` reads one batch (one request per
// owning actor, with multiGet or multiScan); a failed read is not cached, so the next lookup asks
// the store again. Used by the decoder's store source (generate/store_source.ts) and Level 3's
// concept spans (store/model/concepts.ts).

interface Lookup<V> {
  read: Promise<V>;
  /** Set once the read is answered (V may itself be null or undefined). */
  answered?: { value: V };
}

export class BatchedLookups<V> {
  private cache = new Map<string, Lookup<V>>();
  private pending: { context: readonly number[]; resolve: (value: V) => void; reject: (err: unknown) => void }[] = [];

  constructor(
    private readonly readMany: (contexts: readonly (readonly number[])[]) => Promise<V[]>,
    /** Contexts kept at most; past it the cache starts again empty. */
    private readonly limit: number,
  ) {}

  get(context: readonly number[]): Promise<V> {
    const key = context.join(' ');
    const cached = this.cache.get(key);
    if (cached) return cached.read;
    if (this.cache.size >= this.limit) this.cache = new Map();
    const lookup: Lookup<V> = {
      read: new Promise((resolve, reject) => {
        if (this.pending.push({ context, resolve, reject }) === 1) setImmediate(() => void this.readPending());
      }),
    };
    const cache = this.cache;
    lookup.read.then(
      (value) => (lookup.answered = { value }),
      () => cache.get(key) === lookup && cache.delete(key),
    );
    cache.set(key, lookup);
    return lookup.read;
  }

  /** What the context's read found, once answered; undefined while it is unasked or under way. */
  answered(context: readonly number[]): { value: V } | undefined {
    return this.cache.get(context.join(' '))?.answered;
  }

  clear(): void {
    this.cache = new Map();
  }

  private async readPending(): Promise<void> {
    const asked = this.pending.splice(0);
    try {
      const values = await this.readMany(asked.map((a) => a.context));
      asked.forEach((a, i) => a.resolve(values[i]!));
    } catch (err) {
      for (const a of asked) a.reject(err);
    }
  }
}
