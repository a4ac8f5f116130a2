// What the source machine of a fork move (source_machine.ts) takes in and gives out: its tuning, the events the IO
// reports, the actions it asks for, the intent it persists, and why a move fails.
import type { ReplyCode } from '../../../schemas/envelope.js';
import type { ForkChunk } from '../../../schemas/fork_chunk.js';
import type { ForkEntry, MemberState } from '../../../schemas/fork_map.js';
import type { MoveAbort, MoveCutOver, MoveVerify } from '../../../schemas/moves.js';
import type { ForkDigest } from './digest.js';

export interface SourceTuning {
  /** At most this many rows per message; the snapshot is read in pages of the same size. */
  chunkRows: number;
  /** About this many bytes per message. */
  chunkBytes: number;
  /** A catch-up round that brings fewer rows than this is short enough to fence after it. */
  shortRoundRows: number;
  /** Fence after this many catch-up rounds even if writes keep coming as fast as they are forwarded. */
  maxCatchUpRounds: number;
  chunkTimeoutMs: number;
  /** The target digests what it imported, which takes a while for a big fork. */
  verifyTimeoutMs: number;
  cutOverTimeoutMs: number;
  /** The cut-over is sent this often before its outcome counts as unknown. */
  cutOverAttempts: number;
  /** Waiting for the lease, this actor's and the target's: poll every leasePollMs, give up after leaseWaitMs. */
  leasePollMs: number;
  leaseWaitMs: number;
  resolveTimeoutMs: number;
  /** Resolving an intent retries this long after a silence, until the target answers. */
  resolveRetryMs: number;
  /** A handover waits this long, fenced, for the fork's in-sync replicas to confirm the last commits. */
  replicaWaitMs: number;
}

export const SOURCE_TUNING: SourceTuning = {
  chunkRows: 4096,
  chunkBytes: 8 * 1024 * 1024,
  shortRoundRows: 512,
  maxCatchUpRounds: 10,
  chunkTimeoutMs: 30000,
  verifyTimeoutMs: 60000,
  cutOverTimeoutMs: 5000,
  cutOverAttempts: 3,
  leasePollMs: 20,
  leaseWaitMs: 5000,
  resolveTimeoutMs: 3000,
  resolveRetryMs: 500,
  replicaWaitMs: 5000,
};

/** Written (durably) before the cut-over is sent; cleared once the source knows the outcome. */
export interface CutOverIntent {
  kind: 'cut-over';
  moveId: string;
  fork: string;
  to: string;
  epoch: number;
  /**
   * (issue 10) A handover to an in-sync replica: the entry's replicas and in-sync set after it (the
   * source among them), and the place in the replication stream the source holds as replica once
   * the target took the fork (its rows end at `seq` of `term`: the fork was fenced from there on).
   */
  handover?: { term: number; seq: number; replicas: string[]; inSync: string[] };
}

/** Why a move failed; tests and callers read this rather than the message. */
export type SourceFailure =
  | 'target-is-self'
  | 'target-not-alive'
  | 'chunk-refused'
  | 'chunk-unanswered'
  | 'verify-refused'
  | 'verify-mismatch'
  | 'verify-unanswered'
  | 'not-owner'
  | 'replicas-lagging'
  | 'target-not-in-sync'
  | 'lease-lost'
  | 'target-no-lease'
  | 'cutover-refused'
  | 'cutover-unknown'
  | 'io-failed';

export type SourcePhase = 'idle' | 'snapshot' | 'catch-up' | 'fencing' | 'last-tail' | 'replicas' | 'verifying' | 'lease' | 'cut-over' | 'resolving' | 'dropping' | 'done';

export type SourceEvent =
  /** `handover`: the target is an in-sync replica of the fork, which already holds its rows (issue 10). */
  | { kind: 'start'; moveId: string; fork: string; self: string; to: string; targetState: MemberState | undefined; handover?: boolean }
  | { kind: 'restart-with-intent'; self: string; intent: CutOverIntent }
  | { kind: 'snapshot-read'; chunk: ForkChunk }
  | { kind: 'tail-observed'; chunk: ForkChunk }
  | { kind: 'chunk-acked'; seq: number }
  | { kind: 'chunk-refused'; seq: number; code: ReplyCode; message: string }
  | { kind: 'chunk-unanswered'; seq: number }
  | { kind: 'group-committed' }
  /** (handover) Every in-sync replica committed the fork's changes up to `seq` of the stream of `term`; null: not within the wait. */
  | { kind: 'replicas-caught-up'; place: { term: number; seq: number } | null }
  | ({ kind: 'digest-computed' } & ForkDigest)
  | ({ kind: 'verify-acked' } & ForkDigest)
  | { kind: 'verify-refused'; code: ReplyCode; message: string }
  | { kind: 'verify-unanswered' }
  /** `held`: this actor's lease; `targetHeld`: the target's, as it answered (null: it did not answer in time; false also when not asked). */
  | { kind: 'lease-checked'; held: boolean; targetHeld: boolean | null; entry: ForkEntry | undefined; mapVersion: number }
  | { kind: 'timer-fired' }
  | { kind: 'cutover-acked' }
  | { kind: 'cutover-refused'; code: ReplyCode; message: string }
  | { kind: 'cutover-unanswered' }
  | { kind: 'abort-acked' }
  | { kind: 'abort-unanswered' }
  | { kind: 'target-entry'; theirs: ForkEntry | undefined; mine: ForkEntry | undefined }
  | { kind: 'target-entry-unanswered' }
  | { kind: 'fork-dropped' }
  | { kind: 'io-failed'; message: string };

export type SourceAction =
  | { kind: 'read-snapshot' }
  | { kind: 'send-chunk'; seq: number; chunk: ForkChunk; timeoutMs: number }
  | { kind: 'fence' }
  | { kind: 'await-group-commit' }
  | { kind: 'await-replicas'; timeoutMs: number }
  /** (handover) This actor holds the fork as a replica now, at this place in the new owner's stream. */
  | { kind: 'become-replica'; term: number; seq: number }
  | { kind: 'compute-digest' }
  | { kind: 'send-verify'; verify: MoveVerify; timeoutMs: number }
  | { kind: 'check-lease' }
  | { kind: 'set-timer'; ms: number }
  | { kind: 'write-intent'; intent: CutOverIntent }
  | { kind: 'send-cutover'; cutOver: MoveCutOver; timeoutMs: number }
  | { kind: 'adopt'; entry: ForkEntry }
  | { kind: 'clear-intent' }
  | { kind: 'broadcast'; entries: ForkEntry[] }
  | { kind: 'stop-watching' }
  | { kind: 'drop-fork' }
  | { kind: 'unfence' }
  | { kind: 'send-abort'; abort: MoveAbort; timeoutMs: number }
  | { kind: 'ask-target-entry'; timeoutMs: number }
  | { kind: 'succeed'; epoch: number; keys: number; rounds: number }
  | { kind: 'fail'; reason: SourceFailure; code: ReplyCode; message: string; retryable: boolean }
  | { kind: 'finished' };
