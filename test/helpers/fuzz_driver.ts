// Drives a store actor with fuzzed requests (bodies from fuzz_bodies.ts) over one raw DEALER:
// valid envelopes, a window of requests in flight, each reply matched by id and checked (an
// error code, or OK with a body that decodes as the command's reply), and the actor's resident
// memory sampled from /proc while it runs. Shared by test/store_fuzz.test.ts and bench/store_fuzz.ts.
import fs from 'node:fs';
import zmq from 'zeromq';
import type { CommandSchema } from '../../schemas/command.js';
import { CLUSTER_COMMANDS } from '../../schemas/cluster.js';
import { encodeRequest, repliesIn, type Reply } from '../../schemas/envelope.js';
import { MOVE_COMMANDS } from '../../schemas/moves.js';
import { STORE_COMMANDS } from '../../schemas/store.js';
import { defaultPool, fuzzBody, Rng, type BodyKind, type FuzzPool } from './fuzz_bodies.js';

/** Every command a store actor started by `dbslm store start` serves: its own and the cluster layer's. */
export const ALL_COMMANDS: ReadonlyMap<string, CommandSchema<unknown, unknown>> = new Map(
  Object.entries({ ...STORE_COMMANDS, ...CLUSTER_COMMANDS, ...MOVE_COMMANDS }) as [string, CommandSchema<unknown, unknown>][],
);

/** Resident set size of a process in KiB (Linux: VmRSS of /proc/PID/status); 0 once it is gone. */
export function rssKiB(pid: number): number {
  let status: string;
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return 0;
  }
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0);
}

export interface FuzzCall {
  cmd: string;
  body: Buffer;
  kind: BodyKind | 'fixed';
}

export interface FuzzReport {
  requests: number;
  /** Replies by code. */
  codes: Record<string, number>;
  /** Replies by command, then code. */
  byCommand: Record<string, Record<string, number>>;
  /** Requests that got no reply within the reply timeout. */
  unanswered: FuzzCall[];
  /** Problems with replies: an OK body that does not decode, an unexpected id. */
  problems: string[];
  /** INTERNAL replies: a handler threw something unexpected (hostile input should be the sender's error). */
  internal: string[];
  /** The slowest reply of each command, in ms. */
  slowestByCommand: Record<string, number>;
  slowestMs: number;
  slowest: FuzzCall | null;
  /** When the slowest request was sent, in ms from the start of the run. */
  slowestSentAtMs: number;
  /** Every reply's time in ms, in reply order. */
  latenciesMs: number[];
  rssBeforeKiB: number;
  rssPeakKiB: number;
  rssAfterKiB: number;
  ms: number;
}

export interface FuzzOptions {
  /** Process id of the actor, for its memory. */
  pid: number;
  inFlight?: number;
  replyTimeoutMs?: number;
}

/**
 * The seeded calls of one fuzz run: `n` requests, commands uniformly at random. `stop` with a
 * valid (empty) body is never sent: it would stop the actor, as asked.
 */
export function fuzzCalls(seed: number, n: number, actorId: string, pool: FuzzPool = defaultPool(actorId)): FuzzCall[] {
  const rng = new Rng(seed);
  const names = [...ALL_COMMANDS.keys()];
  const calls: FuzzCall[] = [];
  while (calls.length < n) {
    const cmd = rng.pick(names);
    const { kind, body } = fuzzBody(ALL_COMMANDS.get(cmd)!.request, rng, pool);
    if (cmd === 'stop' && body.length === 0) continue;
    calls.push({ cmd, body, kind });
  }
  return calls;
}

/** Send `calls` with a window in flight; resolves once every one is answered or timed out. */
export async function runFuzz(endpoint: string, calls: readonly FuzzCall[], opts: FuzzOptions): Promise<FuzzReport> {
  const inFlight = opts.inFlight ?? 32;
  const replyTimeoutMs = opts.replyTimeoutMs ?? 10000;
  const sock = new zmq.Dealer({ linger: 0, sendHighWaterMark: 0, receiveHighWaterMark: 0 });
  sock.connect(endpoint);
  const report: FuzzReport = { requests: calls.length, codes: {}, byCommand: {}, unanswered: [], problems: [], internal: [], slowestByCommand: {}, slowestMs: 0, slowest: null, slowestSentAtMs: 0, latenciesMs: [], rssBeforeKiB: rssKiB(opts.pid), rssPeakKiB: 0, rssAfterKiB: 0, ms: 0 };
  report.rssPeakKiB = report.rssBeforeKiB;
  const sampler = setInterval(() => (report.rssPeakKiB = Math.max(report.rssPeakKiB, rssKiB(opts.pid))), 100);
  const pending = new Map<number, { call: FuzzCall; sentAt: number; done: () => void }>();
  const t0 = performance.now();

  const onReply = (reply: Reply) => {
    const p = pending.get(reply.id);
    if (!p) {
      report.problems.push(`a reply with id ${reply.id} (${reply.code}: ${reply.message}) matches no request in flight`);
      return;
    }
    pending.delete(reply.id);
    const ms = performance.now() - p.sentAt;
    report.latenciesMs.push(ms);
    if (ms > report.slowestMs) {
      report.slowestMs = ms;
      report.slowest = p.call;
      report.slowestSentAtMs = p.sentAt - t0;
    }
    report.codes[reply.code] = (report.codes[reply.code] ?? 0) + 1;
    report.slowestByCommand[p.call.cmd] = Math.max(report.slowestByCommand[p.call.cmd] ?? 0, ms);
    if (reply.code === 'INTERNAL') report.internal.push(`${p.call.cmd} (${p.call.kind} body ${p.call.body.toString('hex').slice(0, 64)}): INTERNAL ${reply.message}`);
    const per = (report.byCommand[p.call.cmd] ??= {});
    per[reply.code] = (per[reply.code] ?? 0) + 1;
    if (reply.code === 'OK') {
      try {
        ALL_COMMANDS.get(p.call.cmd)!.decodeReply(reply.body);
      } catch (err) {
        report.problems.push(`${p.call.cmd}: an OK reply whose body does not decode: ${(err as Error).message}`);
      }
    }
    p.done();
  };
  const receiving = (async () => {
    try {
      for await (const frames of sock) for (const frame of frames) for (const reply of repliesIn(frame)) onReply(reply);
    } catch {
      // closed at the end
    }
  })();

  // ZeroMQ takes one send at a time: sends queue behind each other.
  let sending: Promise<unknown> = Promise.resolve();
  const send = (msg: Buffer) => (sending = sending.then(() => sock.send(msg)).catch(() => undefined));
  let next = 0;
  const worker = async () => {
    while (next < calls.length) {
      if (!rssKiB(opts.pid)) {
        // The actor is gone: nothing more will be answered.
        report.unanswered.push(...calls.slice(next));
        next = calls.length;
        break;
      }
      const id = ++next;
      const call = calls[id - 1]!;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          report.unanswered.push(call);
          resolve();
        }, replyTimeoutMs);
        pending.set(id, { call, sentAt: performance.now(), done: () => (clearTimeout(timer), resolve()) });
        void send(encodeRequest({ id, cmd: call.cmd, epoch: 0, body: call.body }));
      });
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  report.ms = performance.now() - t0;
  clearInterval(sampler);
  report.rssAfterKiB = rssKiB(opts.pid);
  report.rssPeakKiB = Math.max(report.rssPeakKiB, report.rssAfterKiB);
  sock.close();
  await receiving;
  return report;
}

function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** One line per figure, for test logs and the bench. */
export function formatReport(r: FuzzReport): string[] {
  const codes = Object.entries(r.codes).sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c}=${n}`).join(' ');
  return [
    `requests=${r.requests} answered=${r.requests - r.unanswered.length} unanswered=${r.unanswered.length} in ${(r.ms / 1000).toFixed(1)} s`,
    `replies by code: ${codes}`,
    `reply time: p50 ${percentile(r.latenciesMs, 50).toFixed(2)} ms, p99 ${percentile(r.latenciesMs, 99).toFixed(2)} ms`,
    `slowest reply: ${r.slowestMs.toFixed(1)} ms (${r.slowest ? `${r.slowest.cmd}, ${r.slowest.kind} body of ${r.slowest.body.length} bytes, sent ${r.slowestSentAtMs.toFixed(0)} ms into the run` : '-'})`,
    `slowest by command (ms): ${Object.entries(r.slowestByCommand).sort((a, b) => b[1] - a[1]).map(([c, ms]) => `${c}=${ms.toFixed(1)}`).join(' ')}`,
    `actor RSS: ${(r.rssBeforeKiB / 1024).toFixed(1)} MiB before, ${(r.rssPeakKiB / 1024).toFixed(1)} MiB peak, ${(r.rssAfterKiB / 1024).toFixed(1)} MiB after`,
  ];
}
