// Level 2's episodic memory in the store: the keys of conversations, their messages and their
// corrections, in namespaces of a memory name (default `memory`):
//
//   <memory>.conv  routing prefix: the conversation id  rest: empty      value: Conversation (schemas/conversation.ts)
//   <memory>.msg   routing prefix: the conversation id  rest: u32 seq    value: Message
//   <memory>.corr  routing prefix: the conversation id  rest: u32 seq    value: Correction
//
// Everything of one conversation shares one routing prefix per kind, so it lives in one fork and
// is read with one scan, in order (u32 big-endian).
import { InputError } from '../../model/errors.js';
import { makeKey, rangePrefix } from '../protocol/keys.js';

export const DEFAULT_MEMORY = 'memory';
export type MemoryKind = 'conv' | 'msg' | 'corr';

const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;
const ID_RE = /^[A-Za-z0-9_.:-]{1,128}$/;

export function checkConversationId(id: string): string {
  if (!ID_RE.test(id)) throw new InputError(`conversation id ${JSON.stringify(id)} is not valid`, undefined, undefined, 'use 1-128 letters, digits or _ . : -');
  return id;
}

function namespace(memory: string, kind: MemoryKind): string {
  if (!NAME_RE.test(memory)) throw new InputError(`memory name ${JSON.stringify(memory)} is not valid`, undefined, undefined, 'use letters, digits, _ . - (at most 100)');
  return `${memory}.${kind}`;
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n, 0);
  return b;
}

export function conversationKey(memory: string, id: string): Buffer {
  return makeKey(namespace(memory, 'conv'), Buffer.from(checkConversationId(id), 'utf8'));
}

/** The range of a conversation's messages (kind msg) or corrections (kind corr). */
export function entriesPrefix(memory: string, kind: 'msg' | 'corr', id: string): Buffer {
  return rangePrefix(namespace(memory, kind), Buffer.from(checkConversationId(id), 'utf8'));
}

export function entryKey(memory: string, kind: 'msg' | 'corr', id: string, seq: number): Buffer {
  return makeKey(namespace(memory, kind), Buffer.from(checkConversationId(id), 'utf8'), u32(seq));
}
