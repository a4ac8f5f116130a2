// The history of one fault run: every client operation with its send time, its ack time (performance.now in the
// test process, one clock for all) and its outcome, so the checker can tell what was acknowledged before what.
// Set values carry a per-key sequence number (`s<key>#<seq>`), so a read or a final value can be ordered against
// the acknowledged sets; counters are only ever incremented by positive deltas, so their totals order the same way.
import { StoreReplyError, TimeoutError, type Value } from '../../store/client/client.js';

/** `ok`, `timeout`, a reply code (FENCED, INTERNAL, ...) or `error` (the client gave up otherwise). */
export type Outcome = string;

export interface SetRecord { key: number; seq: number; sendMs: number; ackMs: number; outcome: Outcome }
export interface IncrRecord { producer: string; seq: number; ops: { key: number; delta: number }[]; sendMs: number; ackMs: number; outcome: Outcome }
export type KeySpace = 'set' | 'counter';
/** A read's value: the set seq or the counter total; 0 = missing; NaN = a value no writer of this run wrote. */
export interface ReadRecord { space: KeySpace; key: number; value: number; sendMs: number; ackMs: number; outcome: Outcome }

export const setValue = (key: number, seq: number) => Buffer.from(`s${key}#${seq}`);

/** The seq a set key's stored value carries: 0 if missing, NaN if it is not a value this run wrote to that key. */
export function setSeqOf(key: number, v: Value): number {
  if (v === undefined) return 0;
  if (!(v instanceof Buffer)) return NaN;
  const m = /^s(\d+)#(\d+)$/.exec(v.toString());
  return m && Number(m[1]) === key ? Number(m[2]) : NaN;
}

export function counterOf(v: Value): number {
  if (v === undefined) return 0;
  return typeof v === 'bigint' ? Number(v) : NaN;
}

export function outcomeOf(err: unknown): Outcome {
  if (err instanceof TimeoutError) return 'timeout';
  if (err instanceof StoreReplyError) return err.code;
  return 'error';
}

export class History {
  readonly sets: SetRecord[] = [];
  readonly incrs: IncrRecord[] = [];
  readonly reads: ReadRecord[] = [];
  /** A few messages per failure kind, for the report. */
  readonly errorSamples = new Map<string, string[]>();

  async set(key: number, seq: number, send: () => Promise<void>): Promise<Outcome> {
    const r: SetRecord = { key, seq, sendMs: performance.now(), ackMs: NaN, outcome: 'pending' };
    this.sets.push(r);
    r.outcome = await this.settle(send);
    r.ackMs = performance.now();
    return r.outcome;
  }

  async incr(producer: string, seq: number, ops: { key: number; delta: number }[], send: () => Promise<void>): Promise<Outcome> {
    const r: IncrRecord = { producer, seq, ops, sendMs: performance.now(), ackMs: NaN, outcome: 'pending' };
    this.incrs.push(r);
    r.outcome = await this.settle(send);
    r.ackMs = performance.now();
    return r.outcome;
  }

  async read(space: KeySpace, key: number, get: () => Promise<Value>): Promise<Outcome> {
    const r: ReadRecord = { space, key, value: NaN, sendMs: performance.now(), ackMs: NaN, outcome: 'pending' };
    this.reads.push(r);
    r.outcome = await this.settle(async () => {
      const v = await get();
      r.value = space === 'set' ? setSeqOf(key, v) : counterOf(v);
    });
    r.ackMs = performance.now();
    return r.outcome;
  }

  /** Counts of outcomes over all operations, e.g. { ok: 5120, timeout: 12, FENCED: 3 }. */
  outcomes(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of [...this.sets, ...this.incrs, ...this.reads]) out[r.outcome] = (out[r.outcome] ?? 0) + 1;
    return out;
  }

  private async settle(op: () => Promise<void>): Promise<Outcome> {
    try {
      await op();
      return 'ok';
    } catch (err) {
      const o = outcomeOf(err);
      const samples = this.errorSamples.get(o) ?? [];
      if (samples.length < 3) samples.push((err as Error).message.slice(0, 300));
      this.errorSamples.set(o, samples);
      return o;
    }
  }
}
