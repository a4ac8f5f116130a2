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
// on how far the walk goes, not on the vocabulary.
import type { ContextFollowers } from './context_source.js';
import { logitDeltas, type Controls } from './controls.js';
import type { Target } from './target.js';
import type { SessionCache } from './session_cache.js';

export interface UnigramIndex {
  /** Linear p_uni by word id (0 for words without a unigram, <s> included). */
  p: Float64Array;
  /** S_T by 1 / T. */
  powerSums: Map<number, number>;
}

const indexes = new WeakMap<ContextFollowers, UnigramIndex>();

/** The unigram level's linear probabilities by word id, computed once per level object (sources cache them). */
export function unigramIndex(level: ContextFollowers, vocabSize: number): UnigramIndex {
  let index = indexes.get(level);
  if (!index) {
    const p = new Float64Array(vocabSize);
    for (let i = 0; i < level.words.length; i++) p[level.words[i]!] = Math.pow(10, level.logProbs[i]!);
    index = { p, powerSums: new Map() };
    indexes.set(level, index);
  }
  return index;
}

function powerSum(index: UnigramIndex, level: ContextFollowers, inverseT: number): number {
  let sum = index.powerSums.get(inverseT);
  if (sum === undefined) {
    sum = 0;
    for (const w of level.words) sum += Math.pow(index.p[w]!, inverseT);
    index.powerSums.set(inverseT, sum);
  }
  return sum;
}

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
  return { words: entries.map(([w]) => w), values: entries.map(([, p]) => p), has: (w) => values.has(w), members: [...values.keys()], implicitFactor, unigramPowers: new Map() };
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
  // The implicit words in order: the unigram level, skipping explicit words.
  const implicitOrder = function* (): Generator<number> {
    for (const w of unigrams.words) if (!explicit.has(w) && uni.p[w]! > 0) yield w;
  };
  const topImplicit = implicitOrder().next();
  const topImplicitValue = topImplicit.done ? 0 : implicitFactor * uni.p[topImplicit.value]!;
  const topExplicit = explicit.values[0] ?? 0;
  const max = Math.max(topExplicit, topImplicitValue);
  if (!(max > 0)) throw new Error('the controls left no word with probability above 0 (everything banned or biased to -Infinity)');

  if (controls.temperature === 0) {
    const best = topExplicit > topImplicitValue || (topExplicit > 0 && topExplicit === topImplicitValue && explicit.words[0]! < (topImplicit.value as number)) ? explicit.words[0]! : (topImplicit.value as number);
    return { probability: (w) => (w === best ? 1 : 0), draw: () => best };
  }
  const inverseT = 1 / controls.temperature;
  // Relative to the largest value, so small temperatures do not underflow everything to 0.
  const power = (x: number) => (inverseT === 1 ? x : Math.pow(x, inverseT));
  const transform = (x: number) => power(x / max);
  const implicitScale = power(implicitFactor / max);
  let explicitSum = 0;
  const explicitValue = new Map<number, number>();
  for (let i = 0; i < explicit.words.length; i++) {
    const v = transform(explicit.values[i]!);
    explicitValue.set(explicit.words[i]!, v);
    explicitSum += v;
  }
  // Banned explicit words are not in the arrays (value 0) but are explicit: has() says so.
  const value = (w: number) => (explicit.has(w) ? (explicitValue.get(w) ?? 0) : implicitScale * power(uni.p[w]!));
  let explicitUnigramPower = explicit.unigramPowers.get(inverseT);
  if (explicitUnigramPower === undefined) {
    explicitUnigramPower = 0;
    for (const w of explicit.members) if (uni.p[w]! > 0) explicitUnigramPower += power(uni.p[w]!);
    explicit.unigramPowers.set(inverseT, explicitUnigramPower);
  }
  const total = explicitSum + implicitScale * Math.max(0, powerSum(uni, unigrams, inverseT) - explicitUnigramPower);

  // Every word with a value, most probable first: the two ordered lists merged.
  const merged = function* (): Generator<[number, number]> {
    const rest = implicitOrder();
    let next = rest.next();
    let i = 0;
    while (i < explicit.words.length || !next.done) {
      const ew = i < explicit.words.length ? explicit.words[i]! : -1;
      const ev = ew >= 0 ? explicitValue.get(ew)! : -1;
      const iv = next.done ? -1 : implicitScale * power(uni.p[next.value]!);
      if (ew >= 0 && (ev > iv || (ev === iv && ew < (next.value as number)))) {
        yield [ew, ev];
        i++;
      } else {
        yield [next.value as number, iv];
        next = rest.next();
      }
    }
  };

  const truncating = controls.topK > 0 || controls.topP < 1 || controls.minP > 0;
  if (!truncating) {
    return {
      probability: (w) => value(w) / total,
      draw: (excluding) => {
        const mass = total - (excluding === undefined ? 0 : value(excluding));
        let u = random() * mass;
        let last = -1;
        for (const [w, v] of merged()) {
          if (w === excluding) continue;
          last = w;
          if ((u -= v) < 0) return w;
        }
        return last;
      },
    };
  }
  const kept: [number, number][] = [];
  let keptMass = 0;
  const limit = controls.topK > 0 ? controls.topK : Infinity;
  // Top-p measures against what top-k keeps: the first k values' mass, or everything's.
  let pBase = total;
  if (controls.topK > 0) {
    pBase = 0;
    let n = 0;
    for (const [, v] of merged()) {
      if (n++ >= limit) break;
      pBase += v;
    }
  }
  let floor = 0;
  for (const [w, v] of merged()) {
    if (kept.length === 0) floor = controls.minP * v;
    if (kept.length >= limit || (controls.topP < 1 && keptMass >= controls.topP * pBase) || v < floor) break;
    kept.push([w, v]);
    keptMass += v;
  }
  const keptValue = new Map(kept);
  return {
    probability: (w) => (keptValue.get(w) ?? 0) / keptMass,
    draw: (excluding) => {
      let u = random() * (keptMass - (excluding === undefined ? 0 : (keptValue.get(excluding) ?? 0)));
      let last = -1;
      for (const [w, v] of kept) {
        if (w === excluding) continue;
        last = w;
        if ((u -= v) < 0) return w;
      }
      return last;
    },
  };
}
