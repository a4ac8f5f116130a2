// What `dbslm pipeline run` prints: one progress line per stage (rewritten in place on a TTY),
// then the summary. Pure: figures in, lines out.
import type { PipelineRunResult } from './run_pipeline.js';
import type { RunProgress } from './run_stats.js';

const num = (n: number) => Math.round(n).toLocaleString('en-US');
const mb = (kb: number | null) => (kb === null ? '?' : `${(kb / 1024).toFixed(0)} MB`);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function progressLines(p: RunProgress): string[] {
  const width = Math.max(...p.stages.map((s) => s.name.length));
  const lines = p.stages.map((s) => {
    const restarts = s.restarts > 0 ? `  restarts ${s.restarts}` : '';
    return `${s.name.padEnd(width)} x${s.workers}  in ${num(s.itemsIn)}  out ${num(s.itemsOut)}${restarts}`;
  });
  const skipped = p.skipped > 0 ? ` (+${num(p.skipped)} from the checkpoint)` : '';
  lines.push(`batches ${num(p.batches)}${skipped} committed, ${num(p.inFlight)} in flight; ${num(p.words)} words; ${secs(p.elapsedMs)}`);
  return lines;
}

export function summaryLines(r: PipelineRunResult): string[] {
  const lines: string[] = [];
  const s = r.summary;
  if (s === null) lines.push('counted nothing: every input was counted by an earlier run');
  else {
    lines.push(
      `counted ${num(s.words)} words, ${num(s.sentences)} sentences, ${num(s.lines)} lines (${num(s.badLines)} bad) in ${num(s.batches)} batches${s.skipped > 0 ? ` (${num(s.skipped)} more committed by an earlier run)` : ''}: ${secs(s.elapsedMs)}, ${num(s.wordsPerSec)} words/s`,
    );
    for (const b of s.firstBad) lines.push(`  bad line ${b.where}: ${b.reason}`);
    if (s.badLines > s.firstBad.length) lines.push(`  ... and ${num(s.badLines - s.firstBad.length)} more bad lines`);
    for (const st of s.stages) lines.push(`stage ${st.name} x${st.workers}: in ${num(st.itemsIn)}, out ${num(st.itemsOut)}, restarts ${st.restarts}, peak RSS ${mb(st.maxRssKb)}`);
    if (s.redelivered > 0) lines.push(`redelivered ${num(s.redelivered)} batches after crashes or stalls`);
  }
  const f = r.finish;
  if (f.smooth) {
    const phases = Object.entries(f.smooth.phaseMs).map(([phase, ms]) => `${phase} ${secs(ms)}`).join(', ');
    lines.push(`model: ${num(f.smooth.vocabSize)} words; n-grams ${f.smooth.counts.map(num).join('/')}; smoothed in ${secs(f.phaseMs.smooth ?? 0)} (${phases})`);
  }
  if (f.arpa) lines.push(`wrote ${f.arpa.path} (${(f.arpa.bytes / 1e6).toFixed(1)} MB) in ${secs(f.phaseMs.export ?? 0)}`);
  const stores = r.storeRss.map((a) => `${a.id} ${mb(a.kb)}`).join(', ');
  lines.push(`peak RSS: coordinator ${mb(r.coordinatorRssKb)}${stores ? `; store ${stores}` : ''}`);
  if (f.evaluation) {
    if (f.evaluation.perplexity) lines.push('held-out perplexity:', ...f.evaluation.perplexityText.trimEnd().split('\n'));
    if (f.evaluation.samples.length > 0) lines.push('samples:', ...f.evaluation.samples.map((x) => `  ${x}`));
  }
  return lines;
}

export function summaryJson(r: PipelineRunResult): unknown {
  const f = r.finish;
  return {
    counting: r.summary,
    smooth: f.smooth && { vocabSize: f.smooth.vocabSize, counts: f.smooth.counts, discounts: f.smooth.discounts, phaseMs: f.smooth.phaseMs },
    arpa: f.arpa,
    evaluation: f.evaluation && { perplexity: f.evaluation.perplexity, samples: f.evaluation.samples },
    phaseMs: f.phaseMs,
    coordinatorRssKb: r.coordinatorRssKb,
    storeRss: r.storeRss,
  };
}

/** Rewrites the previous block of lines on a terminal (cursor up, clear each line). */
export function rewriteInPlace(previous: number, lines: string[]): string {
  const up = previous > 0 ? `\x1b[${previous}A` : '';
  return `${up}${lines.map((l) => `\x1b[2K${l}\n`).join('')}`;
}
