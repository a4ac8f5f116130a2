// Two store actors reduced to what fork moves touch, driving the real source and target machines over the simulated
// network of sim_net.ts: one fork's rows and dedup records and the fork's map entry and move intents survive a crash;
// fences, watches, machines and timers do not. The drivers do what source.ts and target.ts do with a real actor.
// A little over 300 lines: one simulated actor, whose storage, source driver and target side belong together.
import type { ReplyCode } from '../../schemas/envelope.js';
import type { ChunkEntry, ForkChunk } from '../../schemas/fork_chunk.js';
import type { ForkEntry } from '../../schemas/fork_map.js';
import type { MoveAbort, MoveChunk, MoveCutOver, MoveVerify } from '../../schemas/moves.js';
import { RowDigest, type ForkDigest } from '../../store/cluster/moves/digest.js';
import type { CutOverIntent, SourceAction, SourceEvent, SourceTuning } from '../../store/cluster/moves/source_events.js';
import { SourceMachine } from '../../store/cluster/moves/source_machine.js';
import { TargetMachine, type TargetAction } from '../../store/cluster/moves/target_machine.js';
import type { SimClock, SimEndpoint, SimNet, SimReply } from './sim_net.js';

export const FORK = 'ab';
const EMPTY = Buffer.alloc(0);

export type WriteResult = 'ok' | 'duplicate' | 'moved' | 'fenced' | 'down';
export type Op = { op: 'set'; key: string; value: string } | { op: 'delete'; key: string } | { op: 'incr'; key: string; delta: number };
export interface Batch {
  producer: string;
  seq: number;
  ops: Op[];
}
export type MoveOutcome = { ok: true; epoch: number; to: string } | { ok: false; reason: string };

/** Rows by key (hex), values as on the wire: kind 1 bytes, kind 2 an 8-byte little-endian counter. */
export type Rows = Map<string, ChunkEntry>;

/** Applies one batch's ops to rows and returns the changed rows' final values (kind 0: deleted). */
export function applyOps(rows: Rows, ops: Op[]): ChunkEntry[] {
  const changed = new Map<string, ChunkEntry>();
  for (const op of ops) {
    const key = Buffer.from(op.key, 'hex');
    if (op.op === 'delete') {
      rows.delete(op.key);
      changed.set(op.key, { key, kind: 0, data: EMPTY });
      continue;
    }
    let entry: ChunkEntry;
    if (op.op === 'set') entry = { key, kind: 1, data: Buffer.from(op.value) };
    else {
      const cur = rows.get(op.key);
      const total = (cur?.kind === 2 ? cur.data.readBigInt64LE(0) : 0n) + BigInt(op.delta);
      const data = Buffer.alloc(8);
      data.writeBigInt64LE(total);
      entry = { key, kind: 2, data };
    }
    rows.set(op.key, entry);
    changed.set(op.key, entry);
  }
  return [...changed.values()];
}

interface SourceRun {
  machine: SourceMachine;
  to: string;
  cursor: Buffer | null;
  watching: boolean;
  operator: ((outcome: MoveOutcome) => void) | null;
  /** Feeds the machine one event at a time, in order; events of a run that ended or of an earlier life are dropped. */
  step: (event: SourceEvent) => void;
}

export class SimActor implements SimEndpoint {
  up = true;
  life = 0;
  // What survives a crash.
  rows: Rows = new Map();
  dedup = new Set<string>();
  entry: ForkEntry;
  intents = new Map<string, CutOverIntent>();
  /** Every (epoch, owner) this actor adopted, in order. */
  readonly history: ForkEntry[] = [];
  // What a crash loses.
  fenced = false;
  leaseHeld = true;
  run: SourceRun | null = null;
  target: TargetMachine;
  /** Called after every event the source machine handled (tests crash nodes at chosen phases). */
  onSourceStep: (machine: SourceMachine) => void = () => {};
  /** Called with every action of the source machine, before it is carried out. */
  onSourceAction: (machine: SourceMachine, action: SourceAction) => void = () => {};

  constructor(readonly id: string, entry: ForkEntry, private readonly clock: SimClock, private readonly net: SimNet, private readonly tuning: SourceTuning) {
    this.entry = entry;
    this.history.push(entry);
    this.target = new TargetMachine(id);
  }

  peers(): string[] {
    return [...this.net.nodes.keys()].filter((id) => id !== this.id);
  }

  /** Like setTimeout, but a crash cancels it. */
  later(ms: number, fn: () => void): void {
    const life = this.life;
    this.clock.schedule(ms, () => {
      if (this.life === life && this.up) fn();
    });
  }

  adopt(entry: ForkEntry): void {
    if (entry.epoch <= this.entry.epoch) return;
    this.entry = { ...entry };
    this.history.push(this.entry);
  }

  crash(): void {
    this.up = false;
    this.life++;
    this.fenced = false;
    this.run = null;
    this.target = new TargetMachine(this.id);
  }

  restart(): void {
    this.up = true;
    this.leaseHeld = true;
    for (const intent of this.intents.values()) this.startRun(intent.to, null).step({ kind: 'restart-with-intent', self: this.id, intent });
    this.net.restarted(this.id);
  }

  /** A client batch, as the actor's batch command handles it (dedup check first, then ownership and the fence). */
  write(batch: Batch): WriteResult {
    if (!this.up) return 'down';
    if (this.entry.owner !== this.id) return 'moved';
    if (this.fenced) return 'fenced';
    const id = `${batch.producer}/${batch.seq}`;
    if (this.dedup.has(id)) return 'duplicate';
    const entries = applyOps(this.rows, batch.ops);
    this.dedup.add(id);
    if (this.run?.watching) this.run.step({ kind: 'tail-observed', chunk: { fork: FORK, entries, dedup: [dedupRecord(id)], last: EMPTY, done: false } });
    return 'ok';
  }

  /** `move` at this actor; false if it is not the one to act (down, not the owner, or already moving). */
  startMove(moveId: string, to: string, operator: (outcome: MoveOutcome) => void): boolean {
    if (!this.up || this.entry.owner !== this.id || this.run) return false;
    const run = this.startRun(to, operator);
    run.watching = true;
    run.step({ kind: 'start', moveId, fork: FORK, self: this.id, to, targetState: 'alive' });
    return true;
  }

  private startRun(to: string, operator: ((outcome: MoveOutcome) => void) | null): SourceRun {
    const run: SourceRun = { machine: new SourceMachine(this.tuning), to, cursor: null, watching: false, operator, step: () => {} };
    this.run = run;
    const life = this.life;
    const queue: SourceEvent[] = [];
    let stepping = false;
    run.step = (event: SourceEvent) => {
      if (this.life !== life || this.run !== run) return;
      queue.push(event);
      if (stepping) return;
      stepping = true;
      for (let next = queue.shift(); next && this.run === run; next = queue.shift()) {
        for (const action of run.machine.handle(next)) {
          this.onSourceAction(run.machine, action);
          this.execute(run, action);
        }
        this.onSourceStep(run.machine);
      }
      stepping = false;
    };
    return run;
  }

  private execute(run: SourceRun, action: SourceAction): void {
    const to = run.to;
    const step = run.step;
    const ask = (cmd: string, body: unknown, timeoutMs: number, toEvent: (r: SimReply | null) => SourceEvent) =>
      this.net.request(this, to, cmd, body, timeoutMs, (r) => step(toEvent(r)));
    switch (action.kind) {
      case 'read-snapshot':
        return this.later(1, () => step({ kind: 'snapshot-read', chunk: this.exportPage(run) }));
      case 'send-chunk': {
        const seq = action.seq;
        const req: MoveChunk = { moveId: run.machine.moveId, fork: FORK, source: this.id, seq, chunk: action.chunk };
        return ask('move-chunk', req, action.timeoutMs, (r) =>
          !r ? { kind: 'chunk-unanswered', seq } : r.code === 'OK' ? { kind: 'chunk-acked', seq } : { kind: 'chunk-refused', seq, code: r.code as ReplyCode, message: r.message });
      }
      case 'fence':
        this.fenced = true;
        return;
      case 'unfence':
        this.fenced = false;
        return;
      case 'await-group-commit':
        return this.later(0, () => step({ kind: 'group-committed' }));
      case 'compute-digest':
        return this.later(1, () => step({ kind: 'digest-computed', ...this.digest() }));
      case 'send-verify':
        return ask('move-verify', action.verify, action.timeoutMs, (r) =>
          !r ? { kind: 'verify-unanswered' } : r.code === 'OK' ? { kind: 'verify-acked', ...(r.body as ForkDigest) } : { kind: 'verify-refused', code: r.code as ReplyCode, message: r.message });
      case 'check-lease':
        return step({ kind: 'lease-checked', held: this.leaseHeld, targetHeld: true, entry: this.entry, mapVersion: this.entry.epoch });
      case 'set-timer':
        return this.later(action.ms, () => step({ kind: 'timer-fired' }));
      case 'write-intent':
        this.intents.set(FORK, action.intent);
        return;
      case 'clear-intent':
        this.intents.delete(FORK);
        return;
      case 'send-cutover':
        return ask('move-cutover', action.cutOver, action.timeoutMs, (r) =>
          !r ? { kind: 'cutover-unanswered' } : r.code === 'OK' ? { kind: 'cutover-acked' } : { kind: 'cutover-refused', code: r.code as ReplyCode, message: r.message });
      case 'adopt':
        return this.adopt(action.entry);
      case 'broadcast':
        for (const peer of this.peers()) this.net.request(this, peer, 'map-put', action.entries, 100, () => {});
        return;
      case 'stop-watching':
        run.watching = false;
        return;
      case 'drop-fork':
        return this.later(1, () => {
          this.dropRows();
          step({ kind: 'fork-dropped' });
        });
      case 'send-abort':
        return ask('move-abort', action.abort, action.timeoutMs, (r) => (r?.code === 'OK' ? { kind: 'abort-acked' } : { kind: 'abort-unanswered' }));
      case 'ask-target-entry':
        return ask('members', {}, action.timeoutMs, (r) =>
          r?.code === 'OK' ? { kind: 'target-entry', theirs: r.body as ForkEntry, mine: this.entry } : { kind: 'target-entry-unanswered' });
      case 'succeed':
        run.operator?.({ ok: true, epoch: action.epoch, to });
        return;
      case 'fail':
        run.operator?.({ ok: false, reason: action.reason });
        return;
      case 'finished':
        if (this.run === run) this.run = null;
        return;
    }
  }

  /** One page of the snapshot in key order, dedup records in the first (like StoreActor.exportFork). */
  private exportPage(run: SourceRun): ForkChunk {
    // Hex strings order like the bytes they encode, so they compare as the database's keys would.
    const after = run.cursor?.toString('hex') ?? '';
    const keys = [...this.rows.keys()].filter((k) => k > after).sort();
    const page = keys.slice(0, this.tuning.chunkRows).map((k) => this.rows.get(k)!);
    const dedup = run.cursor ? [] : [...this.dedup].map(dedupRecord);
    const last = page.length ? page[page.length - 1]!.key : EMPTY;
    run.cursor = page.length ? last : (run.cursor ?? EMPTY);
    return { fork: FORK, entries: page, dedup, last, done: page.length < this.tuning.chunkRows };
  }

  /** The row count and digest of this actor's rows, in key order as its database would read them. */
  digest(): ForkDigest {
    const digest = new RowDigest();
    for (const key of [...this.rows.keys()].sort()) digest.add(this.rows.get(key)!);
    return digest.result();
  }

  private dropRows(): void {
    this.rows = new Map();
    this.dedup = new Set();
  }

  /** The target side and the read-only commands a source asks for. */
  handle(cmd: string, body: unknown): SimReply {
    switch (cmd) {
      case 'move-chunk': {
        const req = body as MoveChunk;
        return this.runTarget(this.target.handle({ kind: 'chunk', request: req, ownsFork: this.entry.owner === this.id, handingOver: this.run !== null }));
      }
      case 'move-verify': {
        const local = this.digest();
        const reply = this.runTarget(this.target.handle({ kind: 'verify', request: body as MoveVerify, local }));
        return reply.code === 'OK' ? { ...reply, body: local } : reply;
      }
      case 'move-cutover':
        return this.runTarget(this.target.handle({ kind: 'cutover', request: body as MoveCutOver, current: this.entry }));
      case 'move-abort':
        return this.runTarget(this.target.handle({ kind: 'abort', request: body as MoveAbort }));
      case 'members':
        return { code: 'OK', message: '', body: { ...this.entry } };
      case 'map-put':
        for (const e of body as ForkEntry[]) this.adopt(e);
        return { code: 'OK', message: '' };
      default:
        return { code: 'UNKNOWN_COMMAND', message: cmd };
    }
  }

  private runTarget(actions: TargetAction[]): SimReply {
    for (const action of actions) {
      switch (action.kind) {
        case 'drop-fork':
          this.dropRows();
          break;
        case 'import':
          for (const e of action.chunk.entries) {
            const key = e.key.toString('hex');
            if (e.kind === 0) this.rows.delete(key);
            else this.rows.set(key, e);
          }
          for (const d of action.chunk.dedup) this.dedup.add(`${d.producer}/${d.seq}`);
          break;
        case 'adopt':
          this.adopt(action.entry);
          break;
        case 'ack':
          return { code: 'OK', message: '' };
        case 'refuse':
          return { code: action.code, message: action.message };
      }
    }
    return { code: 'INTERNAL', message: 'the target machine ended without an answer' };
  }
}

function dedupRecord(id: string) {
  const [producer, seq] = id.split('/');
  return { producer: producer!, seq: Number(seq), anchor: EMPTY };
}
