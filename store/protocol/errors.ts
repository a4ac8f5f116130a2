// The error a command handler throws to send an error reply (code, message, retry hint, redirect).
import { BadBody } from '../../schemas/command.js';
import type { Redirect, ReplyCode } from '../../schemas/envelope.js';

export class StoreError extends Error {
  constructor(
    readonly code: ReplyCode,
    message: string,
    readonly retryable = false,
    readonly redirect: Redirect | null = null,
  ) {
    super(message);
  }
}

/** What a thrown error means on the wire: a body that does not decode is the sender's BAD_REQUEST; anything unexpected is INTERNAL. */
export function asStoreError(err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  if (err instanceof BadBody) return new StoreError('BAD_REQUEST', err.message);
  return new StoreError('INTERNAL', `internal error: ${(err as Error)?.message ?? String(err)}`);
}
