// How `metrics tail` writes numbers: three significant digits with an SI suffix (1.50M, 410k), a
// total with its rate (`1.50M (410k/s)`), latencies in ms or s, utilization in percent. Pure, so
// the table and its tests share it.
import type { Counted } from '../../schemas/metrics.js';

const SUFFIXES = ['', 'k', 'M', 'G', 'T', 'P', 'E'];

/** 1234 -> "1.23k", 1500000 -> "1.50M", 410000 -> "410k", 999 -> "999", 2.5 -> "2.5". */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '-';
  if (n < 0) return `-${formatCount(-n)}`;
  if (n < 999.5) {
    if (Number.isInteger(n) || n >= 9.95) return String(Math.round(n));
    return n.toFixed(1);
  }
  let exp = Math.min(SUFFIXES.length - 1, Math.floor(Math.log10(n) / 3));
  // Round to 3 significant digits first: 999.6k must read 1.00M, not 1000k.
  let scaled = Number((n / 1000 ** exp).toPrecision(3));
  if (scaled >= 1000 && exp < SUFFIXES.length - 1) {
    exp++;
    scaled /= 1000;
  }
  const digits = scaled >= 100 ? 0 : scaled >= 10 ? 1 : 2;
  return `${scaled.toFixed(digits)}${SUFFIXES[exp]}`;
}

/** Bytes with the same digits and a B: "512B", "1.50MB". */
export function formatBytes(n: number): string {
  return `${formatCount(n)}B`;
}

/** A total and its rate: "1.50M (410k/s)". */
export function formatCounted(c: Counted, unit: 'items' | 'bytes' = 'items'): string {
  const f = unit === 'bytes' ? formatBytes : formatCount;
  return `${f(c.total)} (${f(c.rate)}/s)`;
}

/** Three significant digits of a number below 1000 (after rounding): 0.707 -> "0.71", 12.34 -> "12.3". */
function threeDigits(x: number): string {
  const r = Number(x.toPrecision(3));
  return r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2);
}

/** A latency: "0.71ms", "12.3ms", "1.45s"; "-" for none. */
export function formatMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '-';
  if (Number(ms.toPrecision(3)) >= 1000) return `${threeDigits(ms / 1000)}s`;
  return `${threeDigits(ms)}ms`;
}

/** A 0..1 fraction as a percentage: "73%"; "-" for none. */
export function formatPercent(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return '-';
  return `${Math.round(x * 100)}%`;
}
