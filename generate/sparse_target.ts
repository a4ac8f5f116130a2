// The controlled distribution of a position without materialising it over the vocabulary. Words
// split in two:
//   explicit: the followers of every context longer than the empty one, and the words the controls
//             or the session cache touch (bans, bias, penalties, cached words): their values are
//             computed one by one;
//   implicit: every other word w, whose probability is B * p_uni(w) (B the product of all the
//             history's backoffs). No control treats them apart, and temperature is monotone, so
//             they keep the unigram level's order (most probable first, ties by id) and their
//             total is B^(1/T) (S_T - sum over explicit words of p_uni^(1/T)), with S_T the sum of
//             p_uni^(1/T) over the vocabulary, computed once per temperature.
// The truncations walk both lists merged, most probable first, and stop as soon as they can; a
// draw without truncation walks them until the mass is reached. The result equals applyControls on
// the full distribution (controls.ts) up to rounding, in time that depends on the explicit words and
// on how far the walk goes, not on the vocabulary. The unigram level's tempered values and the walk
// are unigram_walk.ts's; the explicit words' tempered values are kept with a cached set of
// explicit words, so a context seen again costs only its walk.
import type { ContextFollowers } from './context_source.js';
import { logitDeltas, type Controls } from './controls.js';
import type { Target } from './target.js';
import type { SessionCache } from './session_cache.js';
import { MergedWalk, powerSum, poweredOrder, unigramIndex } from './unigram_walk.js';

export interface SparseStep {
  controls: Controls;
  generated: readonly number[];
  extraBans: readonly number[];
  cache?: SessionCache;
}

/** The explicit words of a position, most probable first, and what the implicit ones are scaled by. */
interface Explicit {
  words: number[];
  values: number[];
  has: (w: number) => boolean;
  /** Every explicit word, those at 0 (banned) included: none of them is implicit. */
  members: number[];
  implicitFactor: number;
  /** Sums of p_uni^(1/T) over the explicit words, by 1 / T. */
  unigramPowers: Map<number, number>;
  /** (value / values[0])^(1/T) of each explicit word and their sum, by 1 / T (see `explicitPowers`). */
  powers: Map<number, { values: Float64Array; sum: number }>;
}

/**
 * The explicit words of levels without any control touching words, cached per longest context:
 * the levels of a history are its longest stored context and that context's suffixes, so the
 * longest context's followers (one object per context in the sources' caches) determine them.
 */
const plainExplicit = new WeakMap<ContextFollowers, Explicit>();

function ngramExplicit(levels: readonly ContextFollowers[]): { values: Map<number, number>; implicitFactor: number } {
  const values = new Map<number, number>();
  let scale = 0;
  for (let i = 0; i < levels.length - 1; i++) {
    const { words, logProbs, backoff } = levels[i]!;
    for (let j = 0; j < words.length; j++) if (!values.has(words[j]!)) values.set(words[j]!, Math.pow(10, logProbs[j]! + scale));
    scale += backoff;
  }
  return { values, implicitFactor: Math.pow(10, scale) };
}

function sortedExplicit(values: Map<number, number>, implicitFactor: number): Explicit {
  const entries = [...values].filter(([, p]) => p > 0).sort(([a, pa], [b, pb]) => pb - pa || a - b);
  return { words: entries.map(([w]) => w), values: entries.map(([, p]) => p), has: (w) => values.has(w), members: [...values.keys()], implicitFactor, unigramPowers: new Map(), powers: new Map() };
}

/**
 * (value / top value)^(1/T) of the explicit words, in their order, and the sum: relative to the top
 * explicit value so small temperatures do not underflow, computed once per temperature for a
 * cached set of explicit words.
 */
function explicitPowers(explicit: Explicit, inverseT: number): { values: Float64Array; sum: number } {
  let powers = explicit.powers.get(inverseT);
  if (!powers) {
    const top = explicit.values[0] ?? 1;
    const values = new Float64Array(explicit.values.length);
    let sum = 0;
    for (let i = 0; i < values.length; i++) {
      const ratio = explicit.values[i]! / top;
      values[i] = inverseT === 1 ? ratio : Math.pow(ratio, inverseT);
      sum += values[i]!;
    }
    powers = { values, sum };
    explicit.powers.set(inverseT, powers);
  }
  return powers;
}

/** The Target of a position under controls (see the file comment); `levels` longest first, the unigrams last. */
export function sparseTarget(levels: readonly ContextFollowers[], step: SparseStep, vocabSize: number, random: () => number): Target {
  const { controls, generated, extraBans, cache } = step;
  const unigrams = levels[levels.length - 1]!;
  const uni = unigramIndex(unigrams, vocabSize);
  const deltas = logitDeltas(controls, generated);
  const plain = deltas.size === 0 && controls.banned.size === 0 && extraBans.length === 0 && (!cache || cache.empty);
  let explicit: Explicit;
  if (plain) {
    let cached = plainExplicit.get(levels[0]!);
    if (!cached) {
      const { values, implicitFactor } = ngramExplicit(levels);
      cached = sortedExplicit(values, implicitFactor);
      plainExplicit.set(levels[0]!, cached);
    }
    explicit = cached;
  } else {
    const { values, implicitFactor: base } = ngramExplicit(levels);
    let implicitFactor = base;
    const touch = (w: number) => {
      if (w >= 0 && w < vocabSize && !values.has(w)) values.set(w, implicitFactor * uni.p[w]!);
    };
    for (const w of deltas.keys()) touch(w);
    for (const w of controls.banned) touch(w);
    for (const w of extraBans) touch(w);
    if (cache && !cache.empty) {
      for (const w of cache.words()) touch(w);
      for (const [w, p] of values) values.set(w, cache.mix(w, p));
      implicitFactor *= 1 - cache.params.weight;
    }
    for (const [w, d] of deltas) if (values.has(w)) values.set(w, values.get(w)! * Math.exp(d));
    for (const w of controls.banned) if (values.has(w)) values.set(w, 0);
    for (const w of extraBans) if (values.has(w)) values.set(w, 0);
    explicit = sortedExplicit(values, implicitFactor);
  }
  const { implicitFactor } = explicit;
  // The explicit words (banned ones too: none of them is implicit) stamped for this position.
  const mark = ++uni.mark;
  const stamp = (): void => {
    for (const w of explicit.members) if (w >= 0 && w < vocabSize) uni.stamps[w] = mark;
  };
  stamp();
  let firstImplicit = 0;
  while (firstImplicit < uni.order.length && uni.stamps[uni.order[firstImplicit]!] === mark) firstImplicit++;
  const topImplicit = firstImplicit < uni.order.length ? uni.order[firstImplicit]! : -1;
  const topImplicitValue = topImplicit < 0 ? 0 : implicitFactor * uni.p[topImplicit]!;
  const topExplicit = explicit.values[0] ?? 0;
  const max = Math.max(topExplicit, topImplicitValue);
  if (!(max > 0)) throw new Error('the controls left no word with probability above 0 (everything banned or biased to -Infinity)');

  if (controls.temperature === 0) {
    const best = topExplicit > topImplicitValue || (topExplicit > 0 && topExplicit === topImplicitValue && explicit.words[0]! < topImplicit) ? explicit.words[0]! : topImplicit;
    return { probability: (w) => (w === best ? 1 : 0), draw: () => best };
  }
  const inverseT = 1 / controls.temperature;
  // Relative to the largest value, so small temperatures do not underflow everything to 0.
  const power = (x: number) => (inverseT === 1 ? x : Math.pow(x, inverseT));
  const implicitScale = power(implicitFactor / max);
  // The explicit values relative to the top explicit one, raised once per temperature and kept with
  // the (cached) explicit words, then scaled to `max`: a position no longer raises every explicit
  // word (thousands when a short context is among the levels) to draw or truncate a few.
  const relative = explicitPowers(explicit, inverseT);
  const toMax = explicit.values.length ? power(explicit.values[0]! / max) : 0;
  const explicitSum = relative.sum * toMax;
  const explicitValues = relative.values;
  let explicitIndex: Map<number, number> | undefined;
  // Banned explicit words are not in the arrays (value 0) but are explicit: has() says so.
  const value = (w: number) => {
    if (!explicit.has(w)) return implicitScale * power(uni.p[w]!);
    explicitIndex ??= new Map(explicit.words.map((word, i) => [word, i]));
    const i = explicitIndex.get(w);
    return i === undefined ? 0 : explicitValues[i]! * toMax;
  };
  let explicitUnigramPower = explicit.unigramPowers.get(inverseT);
  if (explicitUnigramPower === undefined) {
    explicitUnigramPower = 0;
    for (const w of explicit.members) if (uni.p[w]! > 0) explicitUnigramPower += power(uni.p[w]!);
    explicit.unigramPowers.set(inverseT, explicitUnigramPower);
  }
  const total = explicitSum + implicitScale * Math.max(0, powerSum(uni, unigrams, inverseT) - explicitUnigramPower);
  const powered = poweredOrder(uni, inverseT);
  // A draw may come after other positions stamped their own explicit words (marks only grow, so
  // no other position's stamp equals this one's): each walk stamps this position's words again.
  const walk = (): MergedWalk => {
    stamp();
    return new MergedWalk(explicit.words, explicitValues, toMax, uni, powered, implicitScale, mark);
  };

  const truncating = controls.topK > 0 || controls.topP < 1 || controls.minP > 0;
  if (!truncating) {
    return {
      probability: (w) => value(w) / total,
      draw: (excluding) => {
        const mass = total - (excluding === undefined ? 0 : value(excluding));
        let u = random() * mass;
        let last = -1;
        for (const it = walk(); it.next(); ) {
          if (it.word === excluding) continue;
          last = it.word;
          if ((u -= it.value) < 0) return it.word;
        }
        return last;
      },
    };
  }
  const keptWords: number[] = [];
  const keptValues: number[] = [];
  let keptMass = 0;
  const limit = controls.topK > 0 ? controls.topK : Infinity;
  // Top-p measures against what top-k keeps: the first k values' mass, or everything's.
  let pBase = total;
  if (controls.topK > 0) {
    pBase = 0;
    let n = 0;
    for (const it = walk(); it.next(); ) {
      if (n++ >= limit) break;
      pBase += it.value;
    }
  }
  let floor = 0;
  for (const it = walk(); it.next(); ) {
    const v = it.value;
    if (keptWords.length === 0) floor = controls.minP * v;
    if (keptWords.length >= limit || (controls.topP < 1 && keptMass >= controls.topP * pBase) || v < floor) break;
    keptWords.push(it.word);
    keptValues.push(v);
    keptMass += v;
  }
  const keptValue = new Map<number, number>();
  for (let i = 0; i < keptWords.length; i++) keptValue.set(keptWords[i]!, keptValues[i]!);
  return {
    probability: (w) => (keptValue.get(w) ?? 0) / keptMass,
    draw: (excluding) => {
      let u = random() * (keptMass - (excluding === undefined ? 0 : (keptValue.get(excluding) ?? 0)));
      let last = -1;
      for (let i = 0; i < keptWords.length; i++) {
        const w = keptWords[i]!;
        if (w === excluding) continue;
        last = w;
        if ((u -= keptValues[i]!) < 0) return w;
      }
      return last;
    },
  };
}
