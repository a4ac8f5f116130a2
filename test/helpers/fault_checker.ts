// The invariants of a fault run, checked from the recorded history, the final values read after healing, the
// actors' fences and their ownership histories:
//   lost          an acknowledged write is missing from the final state (a set's value older than the last acked
//                 one, a counter below the sum of its acked batches);
//   applied-twice a counter above acked + every unacknowledged batch, or a read above everything sent so far;
//   inexact       a counter inside those bounds that no subset of the unacknowledged batches explains;
//   stale         a read older than a write acknowledged before the read was sent;
//   foreign       a value no writer of this run wrote to that key;
//   unreadable    a key the final read could not get at all;
//   fenced        a fork still fenced after healing;
//   two-owners    one (fork, epoch) claimed by two owners across the members' ownership histories.
import type { History, IncrRecord, ReadRecord, SetRecord } from './fault_history.js';

export type Invariant = 'lost' | 'applied-twice' | 'inexact' | 'stale' | 'foreign' | 'unreadable' | 'fenced' | 'two-owners';
export interface Violation { invariant: Invariant; key?: string; detail: string }

/**
 * Final values: set seq per set key, total per counter key (NaN = foreign value; undefined = unreadable), and the
 * rows found per context of the filler written (and acked) before the faults began.
 */
export interface FinalValues { sets: (number | undefined)[]; counters: (number | undefined)[]; filler: (number | undefined)[]; fillerPerContext: number }

export interface HistoryCheck { violations: Violation[]; writesChecked: number; ackedWrites: number; readsChecked: number }

/** Ack times with a running maximum (sets) or running sum (counters), for "acked before t" look-ups. */
class AckedBefore {
  private readonly at: number[] = [];
  private readonly acc: number[] = [];
  constructor(points: { ackMs: number; v: number }[], combine: (acc: number, v: number) => number) {
    let acc = 0;
    for (const p of points.sort((a, b) => a.ackMs - b.ackMs)) {
      acc = combine(acc, p.v);
      this.at.push(p.ackMs);
      this.acc.push(acc);
    }
  }
  /** The accumulated value over every point acknowledged strictly before `t`. */
  before(t: number): number {
    let lo = 0;
    let hi = this.at.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.at[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? 0 : this.acc[lo - 1]!;
  }
}

function byKey<T>(n: number, items: Iterable<[number, T]>): T[][] {
  const out = Array.from({ length: n }, () => [] as T[]);
  for (const [k, it] of items) out[k]!.push(it);
  return out;
}

/** Whether some subset of `deltas` sums to exactly `target` (deltas are small positive integers). */
export function subsetSumReaches(deltas: number[], target: number): boolean {
  if (target === 0) return true;
  const total = deltas.reduce((a, b) => a + b, 0);
  if (target < 0 || target > total) return false;
  const reach = new Uint8Array(target + 1);
  reach[0] = 1;
  for (const d of deltas) for (let s = target; s >= d; s--) if (reach[s - d]) reach[s] = 1;
  return reach[target] === 1;
}

export function checkHistory(h: History, final: FinalValues, t0: number): HistoryCheck {
  const v: Violation[] = [];
  const ms = (t: number) => `${Math.round(t - t0)} ms`;
  const nSet = final.sets.length;
  const nCounter = final.counters.length;
  const setsByKey = byKey<SetRecord>(nSet, h.sets.map((r) => [r.key, r]));
  const incrsByKey = byKey<{ r: IncrRecord; delta: number }>(nCounter, h.incrs.flatMap((r) => r.ops.map((o) => [o.key, { r, delta: o.delta }] as [number, { r: IncrRecord; delta: number }])));
  const readsOf = (space: 'set' | 'counter', n: number) => byKey<ReadRecord>(n, h.reads.filter((r) => r.space === space && r.outcome === 'ok').map((r) => [r.key, r]));

  // Sets: the final value carries the last acknowledged seq or a later one, and reads are never older than an ack.
  const setReads = readsOf('set', nSet);
  for (let k = 0; k < nSet; k++) {
    const sets = setsByKey[k]!;
    const acked = new AckedBefore(sets.filter((s) => s.outcome === 'ok').map((s) => ({ ackMs: s.ackMs, v: s.seq })), Math.max);
    const maxAcked = acked.before(Infinity);
    const maxSent = sets.reduce((m, s) => Math.max(m, s.seq), 0);
    const f = final.sets[k];
    const name = `s${k}`;
    if (f === undefined) v.push({ invariant: 'unreadable', key: name, detail: `final read failed (last acked seq ${maxAcked})` });
    else if (Number.isNaN(f) || f > maxSent) v.push({ invariant: 'foreign', key: name, detail: `final value seq ${f}; this run sent seqs up to ${maxSent}` });
    else if (f < maxAcked) {
      const lostSet = sets.find((s) => s.seq === maxAcked)!;
      // Say whether the older value that won was itself acked: an unacked set applied late is a pending write taking
      // effect after a newer acked one (allowed by linearizability, not by "acked writes are never overwritten").
      const winner = sets.find((s) => s.seq === f);
      const how = f === 0 ? 'the key is missing' : `the set of seq ${f} (${winner?.outcome === 'ok' ? 'acked' : `unacked: ${winner?.outcome}`}) won`;
      v.push({ invariant: 'lost', key: name, detail: `final value seq ${f} but seq ${maxAcked} was acked at ${ms(lostSet.ackMs)} (sent ${ms(lostSet.sendMs)}); ${how}` });
    }
    for (const r of setReads[k]!) {
      const need = acked.before(r.sendMs);
      const sentBeforeAck = sets.filter((s) => s.sendMs < r.ackMs).reduce((m, s) => Math.max(m, s.seq), 0);
      if (Number.isNaN(r.value) || r.value > sentBeforeAck) v.push({ invariant: 'foreign', key: name, detail: `read sent ${ms(r.sendMs)} returned seq ${r.value}; only seqs up to ${sentBeforeAck} were sent before its ack` });
      else if (r.value < need) v.push({ invariant: 'stale', key: name, detail: `read sent ${ms(r.sendMs)}, answered ${ms(r.ackMs)}: seq ${r.value}, but seq ${need} was acked before it was sent` });
    }
  }

  // Counters: acked <= total <= acked + unacked, and the excess is a subset of the unacked batches.
  const counterReads = readsOf('counter', nCounter);
  for (let k = 0; k < nCounter; k++) {
    const ops = incrsByKey[k]!;
    const ackedOps = ops.filter((o) => o.r.outcome === 'ok');
    const unacked = ops.filter((o) => o.r.outcome !== 'ok').map((o) => o.delta);
    const acked = new AckedBefore(ackedOps.map((o) => ({ ackMs: o.r.ackMs, v: o.delta })), (a, d) => a + d);
    const ackedSum = acked.before(Infinity);
    const unackedSum = unacked.reduce((a, b) => a + b, 0);
    const f = final.counters[k];
    const name = `c${k}`;
    const what = `acked batches sum to ${ackedSum}, ${unacked.length} unacked batches to ${unackedSum}`;
    if (f === undefined) v.push({ invariant: 'unreadable', key: name, detail: `final read failed (${what})` });
    else if (Number.isNaN(f)) v.push({ invariant: 'foreign', key: name, detail: 'final value is not a counter' });
    else if (f < ackedSum) v.push({ invariant: 'lost', key: name, detail: `final total ${f} < ${ackedSum}: ${what}` });
    else if (f > ackedSum + unackedSum) v.push({ invariant: 'applied-twice', key: name, detail: `final total ${f} > ${ackedSum + unackedSum}: ${what}` });
    else if (!subsetSumReaches(unacked, f - ackedSum)) v.push({ invariant: 'inexact', key: name, detail: `final total ${f}: ${what}, and no subset of them adds ${f - ackedSum}` });
    for (const r of counterReads[k]!) {
      const need = acked.before(r.sendMs);
      const sentBeforeAck = ops.filter((o) => o.r.sendMs < r.ackMs).reduce((a, o) => a + o.delta, 0);
      if (Number.isNaN(r.value)) v.push({ invariant: 'foreign', key: name, detail: `read sent ${ms(r.sendMs)} returned a non-counter` });
      else if (r.value > sentBeforeAck) v.push({ invariant: 'applied-twice', key: name, detail: `read sent ${ms(r.sendMs)} returned ${r.value}; batches sent before its ack sum to ${sentBeforeAck}` });
      else if (r.value < need) v.push({ invariant: 'stale', key: name, detail: `read sent ${ms(r.sendMs)}, answered ${ms(r.ackMs)}: ${r.value}, but batches acked before it was sent sum to ${need}` });
    }
  }

  // Filler: written once before any fault, never touched again; every row must still be there.
  final.filler.forEach((n, ctx) => {
    if (n === undefined) v.push({ invariant: 'unreadable', key: `filler h${ctx}`, detail: 'scan of the filler rows failed' });
    else if (n !== final.fillerPerContext) v.push({ invariant: n < final.fillerPerContext ? 'lost' : 'foreign', key: `filler h${ctx}`, detail: `${n} of the ${final.fillerPerContext} acked filler rows found` });
  });

  const writes = h.sets.length + h.incrs.length;
  const ackedWrites = h.sets.filter((s) => s.outcome === 'ok').length + h.incrs.filter((r) => r.outcome === 'ok').length;
  return { violations: v, writesChecked: writes, ackedWrites, readsChecked: setReads.flat().length + counterReads.flat().length };
}

export function checkFences(fenced: { actor: string; fork: string }[]): Violation[] {
  return fenced.map((f) => ({ invariant: 'fenced' as const, key: f.fork, detail: `fork ${f.fork} still fenced on ${f.actor} after healing` }));
}

export function checkOwners(conflicts: { fork: string; epoch: number; owners: string[] }[]): Violation[] {
  return conflicts.map((c) => ({ invariant: 'two-owners' as const, key: c.fork, detail: `fork ${c.fork} epoch ${c.epoch} owned by ${c.owners.join(' and ')}` }));
}
