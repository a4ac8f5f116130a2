// The Reply envelopes an actor sends: OK with a command's reply body, or the wire form of a thrown
// error (StoreError as it is, an undecodable body as BAD_REQUEST, anything else INTERNAL).
import { encodeReply } from '../../schemas/envelope.js';
import { asStoreError } from '../protocol/errors.js';

const EMPTY = Buffer.alloc(0);

export function okReply(id: number, body: Buffer): Buffer {
  return encodeReply({ id, code: 'OK', message: '', retryable: false, redirect: null, body });
}

export function errorReply(id: number, err: unknown): Buffer {
  const e = asStoreError(err);
  return encodeReply({ id, code: e.code, message: e.message, retryable: e.retryable, redirect: e.redirect, body: EMPTY });
}
