// The target side of live fork moves as a pure state machine: each request of a source (a chunk, the cut-over, an
// abort) is an event, and the answer is a list of actions ending in `ack` or `refuse`. It remembers which move it is
// importing for each fork and how many of its chunks it applied; that memory is lost when the actor restarts
// (imported rows are not), so everything it decides must hold for a target that forgot: a chunk it cannot place
// (of a move it does not know, past its first, or after a gap) is refused, never taken for a fresh start, since
// ZeroMQ may deliver to a restarted target what was queued for the process before it. target.ts runs it for real.
// A handover (issue 10, handover.ts) sends no chunks: the target's rows are its rows as an in-sync replica. Its
// `move-verify` starts the import (once the digests agree), its cut-over takes the entry's replicas, and its abort
// drops nothing: those rows are a replica's, which a failover may promote.
import type { ReplyCode } from '../../../schemas/envelope.js';
import type { ForkChunk } from '../../../schemas/fork_chunk.js';
import type { ForkEntry } from '../../../schemas/fork_map.js';
import type { MoveAbort, MoveChunk, MoveCutOver, MoveVerify } from '../../../schemas/moves.js';
import type { ForkDigest } from './digest.js';

/** Why the target refused; tests and the source read this rather than the message. */
export type TargetRefusal = 'owns-fork' | 'handing-over' | 'wrong-fork' | 'lost-place' | 'unknown-move' | 'digest-mismatch' | 'not-verified' | 'stale-epoch';

export type TargetEvent =
  /** `handingOver`: this actor still moves the fork out (or resolves its last cut-over, or takes it over). */
  | { kind: 'chunk'; request: MoveChunk; ownsFork: boolean; handingOver: boolean }
  /** `local`: the count and digest of this actor's rows of the fork. */
  | { kind: 'verify'; request: MoveVerify; local: ForkDigest }
  | { kind: 'cutover'; request: MoveCutOver; current: ForkEntry | undefined }
  | { kind: 'abort'; request: MoveAbort };

export type TargetAction =
  | { kind: 'drop-fork'; fork: string }
  | { kind: 'import'; chunk: ForkChunk }
  | { kind: 'adopt'; entry: ForkEntry }
  | { kind: 'ack' }
  | { kind: 'refuse'; reason: TargetRefusal; code: ReplyCode; message: string; retryable: boolean };

interface Import {
  moveId: string;
  source: string;
  /** The sequence number of the next chunk to apply; lower ones were applied already. */
  nextSeq: number;
  /** The rows matched the source's after this many chunks; a cut-over needs it to be all of them. */
  verifiedChunks: number;
  /** A handover: the rows are this member's as a replica, not imported (never dropped here). */
  handover?: boolean;
}

export class TargetMachine {
  /** The move each fork is being imported for. */
  private readonly imports = new Map<string, Import>();

  constructor(private readonly self: string) {}

  importing(fork: string): string | undefined {
    return this.imports.get(fork)?.moveId;
  }

  handle(event: TargetEvent): TargetAction[] {
    switch (event.kind) {
      case 'chunk':
        return this.chunk(event.request, event.ownsFork, event.handingOver);
      case 'verify':
        return this.verify(event.request, event.local);
      case 'cutover':
        return this.cutOver(event.request, event.current);
      case 'abort':
        return this.abort(event.request);
    }
  }

  private chunk(req: MoveChunk, ownsFork: boolean, handingOver: boolean): TargetAction[] {
    if (ownsFork) return [refuse('owns-fork', 'BAD_REQUEST', `${this.self} already owns fork ${req.fork}`)];
    // The hand-over ends by dropping this actor's rows of the fork; an import started before that would be wiped.
    if (handingOver) return [refuse('handing-over', 'FENCED', `${this.self} is still handing fork ${req.fork} over; retry when that ends`, true)];
    if (req.chunk.fork !== req.fork) return [refuse('wrong-fork', 'BAD_REQUEST', `chunk of fork ${req.chunk.fork} sent as fork ${req.fork}`)];
    const current = this.imports.get(req.fork);
    if (current?.moveId === req.moveId) {
      // A copy of a chunk applied already: applying it again could bring back values a later chunk replaced.
      if (req.seq < current.nextSeq) return [{ kind: 'ack' }];
      if (req.seq > current.nextSeq) return [this.lostPlace(req, `expected chunk ${current.nextSeq}`)];
      current.nextSeq++;
      return [{ kind: 'import', chunk: req.chunk }, { kind: 'ack' }];
    }
    if (req.seq > 0) return [this.lostPlace(req, current ? `it imports move ${current.moveId}` : 'it imports no move of it (restarted?)')];
    // The first chunk of a new move: rows of an earlier, unfinished import of this fork must not survive it.
    this.imports.set(req.fork, { moveId: req.moveId, source: req.source, nextSeq: 1, verifiedChunks: 0 });
    return [{ kind: 'drop-fork', fork: req.fork }, { kind: 'import', chunk: req.chunk }, { kind: 'ack' }];
  }

  private lostPlace(req: MoveChunk, why: string): TargetAction {
    return refuse('lost-place', 'BAD_REQUEST', `${this.self} cannot place chunk ${req.seq} of move ${req.moveId} of fork ${req.fork}: ${why}; the source keeps the fork, run the move again`);
  }

  private verify(req: MoveVerify, local: ForkDigest): TargetAction[] {
    // A handover's first request starts it, as a new move's first chunk does (an earlier handover left unfinished is
    // void: a source runs one move of a fork at a time). Not over a live move's import: those rows are no replica's.
    const known = this.imports.get(req.fork);
    if (req.handover && known?.moveId !== req.moveId && (!known || known.handover)) {
      this.imports.set(req.fork, { moveId: req.moveId, source: '', nextSeq: 0, verifiedChunks: -1, handover: true });
    }
    const current = this.imports.get(req.fork);
    if (current?.moveId !== req.moveId) return [refuse('unknown-move', 'BAD_REQUEST', `no import of fork ${req.fork} for move ${req.moveId} here (restarted, or aborted); the source keeps the fork`)];
    if (local.rows !== req.rows || local.digest !== req.digest) {
      return [refuse('digest-mismatch', 'INTERNAL', `${this.self} holds ${local.rows} rows of fork ${req.fork} (digest ${local.digest.slice(0, 12)}), the source ${req.rows} (${req.digest.slice(0, 12)}); the source keeps the fork`)];
    }
    current.verifiedChunks = current.nextSeq;
    return [{ kind: 'ack' }];
  }

  /** Idempotent, so the source may resend it on silence. */
  private cutOver(req: MoveCutOver, current: ForkEntry | undefined): TargetAction[] {
    if (current && current.owner === this.self && current.epoch === req.epoch) return [{ kind: 'ack' }];
    if (this.imports.get(req.fork)?.moveId !== req.moveId) {
      return [refuse('unknown-move', 'BAD_REQUEST', `no import of fork ${req.fork} for move ${req.moveId} here (restarted, or aborted); the source keeps the fork`)];
    }
    const imported = this.imports.get(req.fork)!;
    if (imported.verifiedChunks !== imported.nextSeq) {
      return [refuse('not-verified', 'BAD_REQUEST', `the rows of fork ${req.fork} imported for move ${req.moveId} were not verified against the source; the source keeps the fork`)];
    }
    if (current && current.epoch >= req.epoch) {
      return [refuse('stale-epoch', 'BAD_REQUEST', `fork ${req.fork} is already at epoch ${current.epoch} >= ${req.epoch}`)];
    }
    this.imports.delete(req.fork);
    // A handover keeps the replicas, the source now among them, under a new term (the new owner's stream).
    const entry: ForkEntry = imported.handover ? { fork: req.fork, owner: this.self, epoch: req.epoch, term: req.epoch, replicas: req.replicas ?? [], inSync: req.inSync ?? [] } : { fork: req.fork, owner: this.self, epoch: req.epoch };
    return [{ kind: 'adopt', entry }, { kind: 'ack' }];
  }

  /** After an abort a late cut-over of the move is refused, so the source may trust the map it reads next. */
  private abort(req: MoveAbort): TargetAction[] {
    const current = this.imports.get(req.fork);
    if (current?.moveId !== req.moveId) return [{ kind: 'ack' }];
    this.imports.delete(req.fork);
    return current.handover ? [{ kind: 'ack' }] : [{ kind: 'drop-fork', fork: req.fork }, { kind: 'ack' }];
  }
}

function refuse(reason: TargetRefusal, code: ReplyCode, message: string, retryable = false): TargetAction {
  return { kind: 'refuse', reason, code, message, retryable };
}
