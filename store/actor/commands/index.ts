// The commands every store actor serves by itself, by family: kv.ts (get, set, delete, incr),
// batch.ts, scan.ts (scan, scan-many, scan-packed, reduce, summary, purge, reset), admin.ts (ping, stats, metrics, checkpoint, map,
// map-apply, stop). The cluster layer adds its own through `actor.registerCommand`.
import type { CommandSpec } from '../command.js';
import { checkpoint, map, mapApply, metrics, ping, stats, stop } from './admin.js';
import { batchCommand } from './batch.js';
import { del, get, incr, set } from './kv.js';
import { purge, reduce, reset, scan, scanMany, scanPacked, summary } from './scan.js';

/** A fresh set of built-in commands for one actor (the batch command keeps per-actor state). */
export function builtinCommands(): Map<string, CommandSpec> {
  return new Map<string, CommandSpec>([
    ['ping', { handler: ping, write: false }],
    ['get', { handler: get, write: false, read: true }],
    ['set', { handler: set, write: true }],
    ['delete', { handler: del, write: true }],
    ['incr', { handler: incr, write: true }],
    ['batch', batchCommand()],
    ['scan', { handler: scan, write: false, read: true }],
    ['scan-many', { handler: scanMany, write: false, read: true }],
    ['scan-packed', { handler: scanPacked, write: false, read: true }],
    ['reduce', { handler: reduce, write: false, read: true }],
    ['summary', { handler: summary, write: false, read: true }],
    ['purge', { handler: purge, write: true }],
    ['reset', { handler: reset, write: true }],
    ['stats', { handler: stats, write: false }],
    ['metrics', { handler: metrics, write: false }],
    ['checkpoint', { handler: checkpoint, write: false }],
    ['map', { handler: map, write: false, control: true }],
    ['map-apply', { handler: mapApply, write: false }],
    ['stop', { handler: stop, write: false }],
  ]);
}
