// One decoding step: the next word after a history, drawn from the model's distribution as the
// controls transform it. With every control off the draw walks the backoff levels head first
// (exact_draw.ts) and never builds the distribution over the whole vocabulary; otherwise it
// builds it (backoff_levels.ts), applies the controls (controls.ts) and draws from the result.
import { drawIndex } from '../model/sample.js';
import { backoffLevels, fullDistribution } from './backoff_levels.js';
import type { ContextSource } from './context_source.js';
import { applyControls, isExact, type Controls } from './controls.js';
import { CoverMarks, drawExact } from './exact_draw.js';
import type { SessionCache } from './session_cache.js';

export interface DecoderStats {
  /** Words drawn. */
  steps: number;
  /** Steps that needed the whole distribution (some control was on). */
  fullSteps: number;
  /** Backoff levels the exact draws looked at, summed (1 per step when the longest context decides). */
  levelsRead: number;
}

export class Decoder {
  readonly stats: DecoderStats = { steps: 0, fullSteps: 0, levelsRead: 0 };
  private readonly marks: CoverMarks;
  private readonly probs: Float64Array;

  constructor(
    readonly source: ContextSource,
    private readonly random: () => number,
  ) {
    this.marks = new CoverMarks(source.vocabSize);
    this.probs = new Float64Array(source.vocabSize);
  }

  /**
   * The next word id after `history` (ids, oldest first, starting with <s> for a sentence start).
   * `generated`: the words generated so far (penalties count them); `extraBans`: words that may
   * not come now (the stop words before the minimum length); `cache`: a session cache mixed into
   * the model's distribution (session_cache.ts) before the controls apply.
   */
  async next(history: readonly number[], controls: Controls, generated: readonly number[] = [], extraBans: readonly number[] = [], cache?: SessionCache): Promise<number> {
    this.stats.steps++;
    const exact = isExact(controls, extraBans);
    if (exact) {
      // The mixture drawn exactly: a cached word with probability lambda, else the model's draw.
      const cached = cache?.drawCached(this.random);
      if (cached !== undefined) return cached;
    }
    const levels = await backoffLevels(this.source, history);
    if (exact) {
      const read = { count: 0 };
      const word = drawExact(levels, this.random, this.marks, read);
      this.stats.levelsRead += read.count;
      return word;
    }
    this.stats.fullSteps++;
    const p = fullDistribution(levels, this.source.vocabSize, this.probs);
    if (cache) cache.mixInto(p);
    applyControls(p, controls, generated, extraBans);
    return drawIndex(p, this.random);
  }
}
