// Sampling controls, each a documented transform of the exact next-word distribution p, applied
// in this order to a full distribution over the vocabulary (decoder.ts takes the exact fast path,
// exact_draw.ts, when every control is off):
//
//   1. bans         banned words, and the stop words before min_tokens, get p = 0
//   2. logits       ln p += bias(w) - frequency_penalty * n(w) - presence_penalty * [n(w) > 0]
//                          - sum over context windows j holding w of ln(repeat_penalty) / j
//                   (n(w): times w was generated so far; windows: context_dimensions.ts)
//   3. temperature  ln p /= T; T = 0 keeps only the most probable word (ties: lower id)
//   4. truncation   top-k (the k most probable, ties by lower id), then top-p (the smallest
//                   most-probable-first prefix whose mass reaches p), then min-p (words with at
//                   least min_p times the largest probability), each on what the previous kept
//   5. renormalise  what is left sums to 1
//
// The logit units are natural logs, as in OpenAI's and llama.cpp's APIs.
import { InputError } from '../model/errors.js';
import type { ContextWindow } from './context_dimensions.js';

export interface Controls {
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  banned: ReadonlySet<number>;
  logitBias: ReadonlyMap<number, number>;
  presencePenalty: number;
  frequencyPenalty: number;
  repeatPenalty: number;
  contextWindows: readonly ContextWindow[];
}

/** Every control off: draws follow the model's distribution exactly. */
export const EXACT_CONTROLS: Controls = {
  temperature: 1,
  topK: 0,
  topP: 1,
  minP: 0,
  banned: new Set(),
  logitBias: new Map(),
  presencePenalty: 0,
  frequencyPenalty: 0,
  repeatPenalty: 1,
  contextWindows: [{ from: 1, to: 64 }],
};

/** Throws an input error naming the control when a value is out of its range. */
export function checkControls(c: Controls): Controls {
  const need = (ok: boolean, what: string, value: number, range: string) => {
    if (!ok) throw new InputError(`${what} must be ${range}, got ${value}`);
  };
  need(Number.isFinite(c.temperature) && c.temperature >= 0, 'temperature', c.temperature, 'a number >= 0 (0: always the most probable word)');
  need(Number.isInteger(c.topK) && c.topK >= 0, 'top-k', c.topK, 'a whole number >= 0 (0: off)');
  need(c.topP > 0 && c.topP <= 1, 'top-p', c.topP, 'in (0, 1] (1: off)');
  need(c.minP >= 0 && c.minP <= 1, 'min-p', c.minP, 'in [0, 1] (0: off)');
  need(Number.isFinite(c.presencePenalty), 'presence penalty', c.presencePenalty, 'a finite number');
  need(Number.isFinite(c.frequencyPenalty), 'frequency penalty', c.frequencyPenalty, 'a finite number');
  need(Number.isFinite(c.repeatPenalty) && c.repeatPenalty > 0, 'repeat penalty', c.repeatPenalty, 'a number > 0 (1: off)');
  for (const [w, b] of c.logitBias) need(Number.isFinite(b) || b === -Infinity, `logit bias of word ${w}`, b, 'a finite number or -Infinity');
  return c;
}

/** Whether `c` leaves the distribution as the model gives it (besides `extraBans`). */
export function isExact(c: Controls, extraBans: readonly number[]): boolean {
  return (
    c.temperature === 1 && c.topK === 0 && c.topP === 1 && c.minP === 0 && c.banned.size === 0 && c.logitBias.size === 0 &&
    c.presencePenalty === 0 && c.frequencyPenalty === 0 && c.repeatPenalty === 1 && extraBans.length === 0
  );
}

/** Step 2's change of ln p per word: bias, presence and frequency penalties, repeat penalties. */
export function logitDeltas(c: Controls, generated: readonly number[]): Map<number, number> {
  const logit = new Map<number, number>();
  const add = (w: number, delta: number) => logit.set(w, (logit.get(w) ?? 0) + delta);
  for (const [w, b] of c.logitBias) add(w, b);
  if (c.presencePenalty !== 0 || c.frequencyPenalty !== 0) {
    const seen = new Map<number, number>();
    for (const w of generated) seen.set(w, (seen.get(w) ?? 0) + 1);
    for (const [w, n] of seen) add(w, -c.frequencyPenalty * n - c.presencePenalty);
  }
  if (c.repeatPenalty !== 1) {
    const lnPenalty = Math.log(c.repeatPenalty);
    c.contextWindows.forEach((window, j) => {
      const inWindow = new Set<number>();
      for (let back = window.from; back <= window.to && back <= generated.length; back++) inWindow.add(generated[generated.length - back]!);
      for (const w of inWindow) add(w, -lnPenalty / (j + 1));
    });
  }
  return logit;
}

/**
 * Applies `c` to `p` (linear probabilities over word ids) in place and returns it normalised.
 * `generated`: the words generated so far, oldest first; `extraBans`: stop words before min_tokens.
 */
export function applyControls(p: Float64Array, c: Controls, generated: readonly number[], extraBans: readonly number[] = []): Float64Array {
  for (const w of c.banned) p[w] = 0;
  for (const w of extraBans) p[w] = 0;
  const logit = logitDeltas(c, generated);
  for (const [w, delta] of logit) if (w >= 0 && w < p.length) p[w] *= Math.exp(delta);
  if (c.temperature === 0) {
    let best = -1;
    for (let w = 0; w < p.length; w++) if (p[w]! > 0 && (best < 0 || p[w]! > p[best]!)) best = w;
    p.fill(0);
    if (best >= 0) p[best] = 1;
    return p;
  }
  if (c.temperature !== 1) {
    let max = 0;
    for (let w = 0; w < p.length; w++) if (p[w]! > max) max = p[w]!;
    // Relative to the largest, so small temperatures do not underflow everything to 0.
    for (let w = 0; w < p.length; w++) if (p[w]! > 0) p[w] = Math.pow(p[w]! / max, 1 / c.temperature);
  }
  normalise(p);
  if (c.topK > 0 || c.topP < 1 || c.minP > 0) truncate(p, c);
  return p;
}

function normalise(p: Float64Array): void {
  let sum = 0;
  for (let w = 0; w < p.length; w++) sum += p[w]!;
  if (!(sum > 0)) throw new Error('the controls left no word with probability above 0 (everything banned or biased to -Infinity)');
  for (let w = 0; w < p.length; w++) p[w]! /= sum;
}

/**
 * The words truncation may keep, most probable first (ties: lower id): those above a threshold
 * lowered tenfold until they hold the k words and the p mass the truncation needs, so only the
 * head of the distribution is sorted, not the whole vocabulary.
 */
function headCandidates(p: Float64Array, c: Controls): number[] {
  let max = 0;
  let positive = 0;
  for (let w = 0; w < p.length; w++) if (p[w]! > 0) (positive++, p[w]! > max && (max = p[w]!));
  for (let floor = max / 1000; ; floor /= 10) {
    const kept: number[] = [];
    let mass = 0;
    for (let w = 0; w < p.length; w++) if (p[w]! >= floor && p[w]! > 0) (kept.push(w), (mass += p[w]!));
    // Enough when top-k has its k (or all there are), top-p its mass, and min-p its floor.
    const enoughK = c.topK === 0 ? kept.length === positive : kept.length >= Math.min(c.topK, positive);
    const enoughP = c.topK === 0 && c.topP < 1 && mass >= c.topP;
    const enoughMin = c.topK === 0 && c.topP === 1 && floor <= c.minP * max;
    if (enoughK || enoughP || enoughMin || floor === 0) return kept.sort((a, b) => p[b]! - p[a]! || a - b);
    if (floor < Number.MIN_VALUE * 10) floor = 0;
  }
}

function truncate(p: Float64Array, c: Controls): void {
  const order = headCandidates(p, c);
  let keep = c.topK > 0 ? Math.min(c.topK, order.length) : order.length;
  if (c.topP < 1) {
    // Top-p measures against the mass top-k kept (the distribution renormalised after top-k).
    let total = 0;
    if (c.topK > 0) for (let i = 0; i < keep; i++) total += p[order[i]!]!;
    else total = 1;
    let kept = 0;
    let mass = 0;
    while (kept < keep && mass < c.topP * total) mass += p[order[kept++]!]!;
    keep = kept;
  }
  if (c.minP > 0) {
    const floor = c.minP * p[order[0]!]!;
    let kept = 0;
    while (kept < keep && p[order[kept]!]! >= floor) kept++;
    keep = kept;
  }
  const survivors = order.slice(0, keep);
  const values = survivors.map((w) => p[w]!);
  p.fill(0);
  survivors.forEach((w, i) => (p[w] = values[i]!));
  normalise(p);
}
