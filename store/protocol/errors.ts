// The error a command handler throws to send an error reply (code, message, retry hint, redirect).
import type { Redirect, ReplyCode } from '../../schemas/store.js';

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
