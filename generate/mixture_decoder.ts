// Generation from a linear mixture of models (model/mix/): at a history h,
//
//   p(w | h) = sum_i lambda_i p_i(w | h_i)
//
// over the union of the components' vocabularies (union_vocab.ts: h_i is h in component i's ids,
// a word it lacks read as <unk>; it gives such a word probability 0, and its <unk> mass stays on
// <unk>, "a word no component knows"), so the mixture sums to 1 over the union. Word ids here are
// union ids throughout; each component reads its own backoff levels (backoff_levels.ts).
//
// With every control off, a draw picks component i with probability lambda_i and then draws from
// p_i exactly as one model's decoder does (exact_draw.ts): a draw from the sum without building
// it (a session cache first takes a cached word with its weight, as decoder.ts does). Under
// controls, the mixture is built over the union vocabulary, the session cache mixed in, and the
// controls applied by applyControls (controls.ts), the definition that one model's sparse path
// (sparse_target.ts) equals: so every control acts on the mixture as it acts on one model's
// distribution. The sparse path's shortcut does not carry over (words no longer context stores
// have sum_i lambda_i B_i p_uni_i(w), whose order and powers change with the history), so a
// controlled step costs a few passes over the union (about 2 ms for KJV's 13k words, bench:generate).
import type { UnionVocab } from '../model/mix/union_vocab.js';
import { drawIndex } from '../model/sample.js';
import { backoffLevels, levelLogProb } from './backoff_levels.js';
import { ModelContextSource, sortFollowers, type ContextFollowers } from './context_source.js';
import { applyControls, EXACT_CONTROLS, isExact } from './controls.js';
import { Decoder, type DecoderStats, type StepContext, type StepDecoder } from './decoder.js';
import { unigramIndex } from './unigram_walk.js';
import { exactTarget, type Target } from './target.js';

/** Each component's levels of one history, in component order. */
export type MixtureLevels = ContextFollowers[][];

/** A level's probabilities as linear values, in its followers' order, computed once per level object (sources cache them). */
const linearValues = new WeakMap<ContextFollowers, Float64Array>();

function linearOf(level: ContextFollowers): Float64Array {
  let linear = linearValues.get(level);
  if (!linear) linearValues.set(level, (linear = level.logProbs.map((lp) => Math.pow(10, lp))));
  return linear;
}

/** The component models of a mixture with their weights, read once and shared by every decoder. */
export class ModelMixture {
  /** Component i's followers, in its own ids (cached per context, as for one model). */
  readonly sources: ModelContextSource[];
  /** Per component, a distribution over its ids (distribution() is synchronous, so one each suffices). */
  private readonly scratch: Float64Array[];

  constructor(
    readonly union: UnionVocab,
    readonly weights: Float64Array,
  ) {
    if (weights.length !== union.models.length) throw new RangeError(`${weights.length} weights for ${union.models.length} models`);
    this.sources = union.models.map((lm) => new ModelContextSource(lm));
    this.scratch = this.sources.map((source) => new Float64Array(source.vocabSize));
  }

  /** A union history (oldest first) in component i's ids. */
  ownHistory(i: number, history: readonly number[]): number[] {
    return history.map((u) => this.union.contextId(i, u));
  }

  /** p(word | h) from the components' levels of h. */
  probability(levels: MixtureLevels, word: number): number {
    let p = 0;
    for (let i = 0; i < levels.length; i++) {
      const own = this.union.toModel[i]![word]!;
      if (own >= 0 && this.weights[i]! > 0) p += this.weights[i]! * Math.pow(10, levelLogProb(levels[i]!, own));
    }
    return p;
  }

  /** p(. | h) over the union ids, from the components' levels of h. */
  distribution(levels: MixtureLevels): Float64Array {
    const out = new Float64Array(this.union.size);
    levels.forEach((own, i) => {
      const weight = this.weights[i]!;
      if (weight === 0) return;
      const vocabSize = this.sources[i]!.vocabSize;
      // Every word at B * p_uni(w) (B: the product of the history's backoffs; linear values are kept
      // per level, as the sparse path keeps the unigrams'), then each longer context, shortest first,
      // overwriting the words it stores: a word's longest storing context wins.
      const scale = new Float64Array(own.length);
      for (let k = 1; k < own.length; k++) scale[k] = scale[k - 1]! + own[k - 1]!.backoff;
      const last = own.length - 1;
      const p = this.scratch[i]!;
      const unigrams = unigramIndex(own[last]!, vocabSize).p;
      const factor = Math.pow(10, scale[last]!);
      for (let w = 0; w < vocabSize; w++) p[w] = factor * unigrams[w]!;
      for (let k = last - 1; k >= 0; k--) {
        const words = own[k]!.words;
        const linear = linearOf(own[k]!);
        const levelFactor = Math.pow(10, scale[k]!);
        for (let j = 0; j < words.length; j++) p[words[j]!] = levelFactor * linear[j]!;
      }
      const toUnion = this.union.fromModel[i]!;
      for (let w = 0; w < vocabSize; w++) if (p[w]! > 0) out[toUnion[w]!] += weight * p[w]!;
    });
    return out;
  }

  /** The mixture's unigram level, p(w) = sum_i lambda_i p_i(w) with no context, most probable first. */
  async unigrams(): Promise<ContextFollowers> {
    const p = this.distribution(await Promise.all(this.sources.map(async (s) => [(await s.followers([]))!])));
    const words = [...p.keys()].filter((w) => p[w]! > 0);
    return sortFollowers(Int32Array.from(words), Float64Array.from(words, (w) => Math.log10(p[w]!)), 0);
  }
}

export class MixtureDecoder implements StepDecoder<MixtureLevels> {
  readonly stats: DecoderStats = { steps: 0, fullSteps: 0, levelsRead: 0, rounds: 0 };
  /** One decoder per component on the same random stream: each draws from its own model exactly. */
  private readonly components: Decoder[];

  constructor(
    readonly mixture: ModelMixture,
    readonly random: () => number,
  ) {
    this.components = mixture.sources.map((source) => new Decoder(source, random));
  }

  async levelsOf(histories: readonly (readonly number[])[]): Promise<MixtureLevels[]> {
    if (this.missing(histories)) this.stats.rounds++;
    const { sources } = this.mixture;
    return Promise.all(histories.map((h) => Promise.all(sources.map((source, i) => backoffLevels(source, this.mixture.ownHistory(i, h))))));
  }

  missing(histories: readonly (readonly number[])[]): boolean {
    return this.components.some((decoder, i) => decoder.missing(histories.map((h) => this.mixture.ownHistory(i, h))));
  }

  target(levels: MixtureLevels, step: StepContext): Target {
    const { controls, extraBans, cache } = step;
    if (!isExact(controls, extraBans)) return this.builtTarget(levels, step);
    const { weights, union } = this.mixture;
    const exactDraw = (): number => {
      // A cached word with the cache's weight, else the mixture: component i with lambda_i, then its draw.
      const cached = cache?.drawCached(this.random);
      if (cached !== undefined) return cached;
      const i = drawIndex(weights, this.random);
      const component = this.components[i]!;
      const before = component.stats.levelsRead;
      const word = component.target(levels[i]!, { controls: EXACT_CONTROLS, generated: [], extraBans: [] }).draw();
      this.stats.levelsRead += component.stats.levelsRead - before;
      return union.fromModel[i]![word]!;
    };
    return exactTarget(
      (word) => {
        const p = this.mixture.probability(levels, word);
        return cache ? cache.mix(word, p) : p;
      },
      exactDraw,
      () => this.builtTarget(levels, step),
    );
  }

  /** The mixture built over the union, the cache mixed in, then the controls applied (see the file comment). */
  private builtTarget(levels: MixtureLevels, step: StepContext): Target {
    this.stats.fullSteps++;
    const p = this.mixture.distribution(levels);
    step.cache?.mixInto(p);
    applyControls(p, step.controls, step.generated, step.extraBans);
    // The words left with mass, in id order (truncation leaves few): what a draw walks.
    const words: number[] = [];
    let total = 0;
    for (let w = 0; w < p.length; w++) if (p[w]! > 0) (words.push(w), (total += p[w]!));
    return {
      probability: (word) => p[word] ?? 0,
      draw: (excluding) => {
        let u = this.random() * (total - (excluding === undefined ? 0 : p[excluding]!));
        let last = -1;
        for (const w of words) {
          if (w === excluding) continue;
          last = w;
          if ((u -= p[w]!) < 0) return w;
        }
        return last;
      },
    };
  }

  async next(history: readonly number[], controls: StepContext['controls'], generated: readonly number[] = [], extraBans: readonly number[] = [], cache?: StepContext['cache']): Promise<number> {
    this.stats.steps++;
    return this.target((await this.levelsOf([history]))[0]!, { controls, generated, extraBans, cache }).draw();
  }
}
