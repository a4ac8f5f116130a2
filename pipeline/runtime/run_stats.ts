// The figures of a run the CLI prints: per stage items in and out (summed over every worker and
// incarnation) and restarts; batches acked; words, sentences, lines and bad lines of the batches
// acked (each batch counted once, on its first ack); then the summary with wall time and rate.
import type { BadLine } from '../../schemas/pipeline.js';
import type { ActorEvent } from '../../schemas/pipeline_control.js';

export interface StageProgress {
  name: string;
  workers: number;
  itemsIn: number;
  itemsOut: number;
  restarts: number;
  /** The largest peak RSS (KiB) any of its actors reported: its process's own, or the coordinator's when actors are threads. */
  maxRssKb: number;
}

export interface RunProgress {
  stages: StageProgress[];
  /** Batches committed in this run. */
  batches: number;
  /** Batches committed by an earlier run (checkpoint) and skipped. */
  skipped: number;
  inFlight: number;
  words: number;
  sentences: number;
  lines: number;
  badLines: number;
  elapsedMs: number;
}

export interface CountingSummary extends RunProgress {
  /** Words per second of wall time. */
  wordsPerSec: number;
  /** The first few bad lines, `file:line` with the reason. */
  firstBad: BadLine[];
  /** Batches sent again after a crash or a stall. */
  redelivered: number;
}

const FIRST_BAD_KEPT = 5;

export class RunStats {
  private readonly started = performance.now();
  private readonly perActor = new Map<string, Map<string, { itemsIn: number; itemsOut: number; maxRssKb: number }>>();
  private readonly restarts = new Map<string, number>();
  private batches = 0;
  private skipped = 0;
  private words = 0;
  private sentences = 0;
  private lines = 0;
  private badLines = 0;
  private redeliveredBatches = 0;
  private readonly firstBad: BadLine[] = [];

  constructor(private readonly stages: { name: string; workers: number }[]) {
    for (const s of stages) this.perActor.set(s.name, new Map());
  }

  resumed(batches: number): void {
    this.skipped = batches;
  }

  /** A batch's first ack. */
  acked(e: ActorEvent): void {
    this.batches++;
    this.words += e.words;
    this.sentences += e.sentences;
    this.lines += e.lines;
    this.badLines += e.bad.length;
    for (const b of e.bad) if (this.firstBad.length < FIRST_BAD_KEPT) this.firstBad.push(b);
  }

  actorProgress(e: ActorEvent): void {
    this.perActor.get(e.stage)?.set(`${e.worker}/${e.incarnation}`, { itemsIn: e.itemsIn, itemsOut: e.itemsOut, maxRssKb: e.maxRssKb });
  }

  /** Counts a restart of one of the stage's workers; returns the stage's restarts so far. */
  restarted(stage: string): number {
    const n = (this.restarts.get(stage) ?? 0) + 1;
    this.restarts.set(stage, n);
    return n;
  }

  redelivered(batches: number): void {
    this.redeliveredBatches += batches;
  }

  progress(inFlight: number): RunProgress {
    const stages = this.stages.map(({ name, workers }) => {
      let itemsIn = 0;
      let itemsOut = 0;
      let maxRssKb = 0;
      for (const c of this.perActor.get(name)!.values()) {
        itemsIn += c.itemsIn;
        itemsOut += c.itemsOut;
        maxRssKb = Math.max(maxRssKb, c.maxRssKb);
      }
      return { name, workers, itemsIn, itemsOut, restarts: this.restarts.get(name) ?? 0, maxRssKb };
    });
    const { batches, skipped, words, sentences, lines, badLines } = this;
    return { stages, batches, skipped, inFlight, words, sentences, lines, badLines, elapsedMs: performance.now() - this.started };
  }

  summary(inFlight: number): CountingSummary {
    const p = this.progress(inFlight);
    return { ...p, wordsPerSec: p.elapsedMs > 0 ? (p.words * 1000) / p.elapsedMs : 0, firstBad: [...this.firstBad], redelivered: this.redeliveredBatches };
  }
}
