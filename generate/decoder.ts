// One decoding step: the next word after a history, drawn from the model's distribution as the
// controls transform it. With every control off the draw walks the backoff levels head first
// (exact_draw.ts); otherwise the controls (controls.ts) apply to the distribution kept sparse
// (sparse_target.ts). Neither builds the distribution over the whole vocabulary.
// A position's distribution is a Target: what speculative decoding (speculative.ts) needs to
// verify a drafted word (its probability, and a draw from the rest).
import { backoffLevels, levelLogProb } from './backoff_levels.js';
import type { ContextFollowers, ContextSource } from './context_source.js';
import { isExact, type Controls } from './controls.js';
import { CoverMarks, drawExact } from './exact_draw.js';
import type { SessionCache } from './session_cache.js';
import { sparseTarget } from './sparse_target.js';
import { exactTarget, type Target } from './target.js';

export interface DecoderStats {
  /** Words drawn. */
  steps: number;
  /** Positions drawn under controls (sparse_target.ts). */
  fullSteps: number;
  /** Backoff levels the exact draws looked at, summed (1 per step when the longest context decides). */
  levelsRead: number;
  /** Sequential rounds of lookups that had to ask the store (some context not cached). */
  rounds: number;
}


/** What a step needs besides the history: see Decoder.next. */
export interface StepContext {
  controls: Controls;
  generated: readonly number[];
  extraBans: readonly number[];
  cache?: SessionCache;
}

/**
 * What generating text (generate_text.ts) and speculative decoding (speculative.ts) draw words
 * through: one backoff model (Decoder) or a linear mixture of several (mixture_decoder.ts).
 * `L` is what a position's distribution is built from (the levels of its history).
 */
export interface StepDecoder<L = unknown> {
  readonly stats: DecoderStats;
  /** The levels of several histories in one round (counted once when a store is asked). */
  levelsOf(histories: readonly (readonly number[])[]): Promise<L[]>;
  /** Whether looking up these histories would ask a store. */
  missing(histories: readonly (readonly number[])[]): boolean;
  /** The distribution at a position, given its levels. */
  target(levels: L, step: StepContext): Target;
  /** The next word after `history`: see Decoder.next. */
  next(history: readonly number[], controls: Controls, generated?: readonly number[], extraBans?: readonly number[], cache?: SessionCache): Promise<number>;
}

export class Decoder implements StepDecoder<ContextFollowers[]> {
  readonly stats: DecoderStats = { steps: 0, fullSteps: 0, levelsRead: 0, rounds: 0 };
  private readonly marks: CoverMarks;

  constructor(
    readonly source: ContextSource,
    readonly random: () => number,
  ) {
    this.marks = new CoverMarks(source.vocabSize);
  }

  /** The levels of `history`, counting a round when the store is asked. */
  async levels(history: readonly number[]): Promise<ContextFollowers[]> {
    return (await this.levelsOf([history]))[0]!;
  }

  /** The levels of several histories in one round (counted once when the store is asked). */
  async levelsOf(histories: readonly (readonly number[])[]): Promise<ContextFollowers[][]> {
    if (this.missing(histories)) this.stats.rounds++;
    return Promise.all(histories.map((h) => backoffLevels(this.source, h)));
  }

  /** Whether any context of these histories is not cached (looking them up costs a round trip). */
  missing(histories: readonly (readonly number[])[]): boolean {
    const cached = this.source.isCached?.bind(this.source);
    if (!cached) return false;
    return histories.some((h) => {
      for (let len = Math.min(this.source.order - 1, h.length); len >= 0; len--) if (!cached(h.slice(h.length - len))) return true;
      return false;
    });
  }

  /** The distribution at a position, given its levels. */
  target(levels: ContextFollowers[], step: StepContext): Target {
    const { controls, generated, extraBans, cache } = step;
    if (isExact(controls, extraBans)) {
      const exactDraw = (): number => {
        // The mixture drawn exactly: a cached word with probability lambda, else the model's draw.
        const cached = cache?.drawCached(this.random);
        if (cached !== undefined) return cached;
        const read = { count: 0 };
        const word = drawExact(levels, this.random, this.marks, read);
        this.stats.levelsRead += read.count;
        return word;
      };
      return exactTarget(
        (word) => {
          const p = Math.pow(10, levelLogProb(levels, word));
          return cache ? cache.mix(word, p) : p;
        },
        exactDraw,
        () => sparseTarget(levels, step, this.source.vocabSize, this.random),
      );
    }
    this.stats.fullSteps++;
    return sparseTarget(levels, step, this.source.vocabSize, this.random);
  }

  /**
   * The next word id after `history` (ids, oldest first, starting with <s> for a sentence start).
   * `generated`: the words generated so far (penalties count them); `extraBans`: words that may
   * not come now (the stop words before the minimum length); `cache`: a session cache mixed into
   * the model's distribution (session_cache.ts) before the controls apply.
   */
  async next(history: readonly number[], controls: Controls, generated: readonly number[] = [], extraBans: readonly number[] = [], cache?: SessionCache): Promise<number> {
    this.stats.steps++;
    return this.target(await this.levels(history), { controls, generated, extraBans, cache }).draw();
  }
}
