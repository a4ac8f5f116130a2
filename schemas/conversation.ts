// Level 2's episodic memory as stored (store/memory/conversation_keys.ts): a conversation's
// record, its messages and its corrections, each a versioned Avro record. `version` is the first
// field of each, so a reader checks it before decoding the rest.
import { checkEncoding } from './bounded_check.js';
import { avroType } from './command.js';

export const CONVERSATION_SCHEMA_VERSION = 1;

export interface ConversationRecord {
  version: number;
  id: string;
  user: string;
  agent: string;
  /** The model it was held with, as the user named it (a store model or a file). */
  model: string;
  instruction: string | null;
  createdMs: number;
}

export type Role = 'user' | 'agent';

export interface MessageRecord {
  version: number;
  role: Role;
  text: string;
  /** The words as the model's tokenizer split them (markers excluded), for the cache and penalties. */
  tokens: string[];
  ms: number;
}

/** "say X, not Y": a logit bias over the whole vocabulary for a number of turns. */
export interface CorrectionRecord {
  version: number;
  wrong: string;
  right: string;
  /** The turn (agent answers so far) when it was made; it applies to the next `turns` answers. */
  madeAtTurn: number;
  turns: number;
  ms: number;
}

const ConversationType = avroType({
  type: 'record',
  name: 'dbslm.memory.Conversation',
  fields: [
    { name: 'version', type: 'int' },
    { name: 'id', type: 'string' },
    { name: 'user', type: 'string' },
    { name: 'agent', type: 'string' },
    { name: 'model', type: 'string' },
    { name: 'instruction', type: ['null', 'string'] },
    { name: 'createdMs', type: 'long' },
  ],
});

const MessageType = avroType({
  type: 'record',
  name: 'dbslm.memory.Message',
  fields: [
    { name: 'version', type: 'int' },
    { name: 'role', type: { type: 'enum', name: 'dbslm.memory.Role', symbols: ['user', 'agent'] } },
    { name: 'text', type: 'string' },
    { name: 'tokens', type: { type: 'array', items: 'string' } },
    { name: 'ms', type: 'long' },
  ],
});

const CorrectionType = avroType({
  type: 'record',
  name: 'dbslm.memory.Correction',
  fields: [
    { name: 'version', type: 'int' },
    { name: 'wrong', type: 'string' },
    { name: 'right', type: 'string' },
    { name: 'madeAtTurn', type: 'int' },
    { name: 'turns', type: 'int' },
    { name: 'ms', type: 'long' },
  ],
});

function decodeVersioned<T extends { version: number }>(type: typeof ConversationType, what: string, value: Buffer): T {
  checkEncoding(type, value);
  const record = type.fromBuffer(value) as T;
  if (record.version !== CONVERSATION_SCHEMA_VERSION) throw new Error(`a stored ${what} has schema version ${record.version}; this dbslm reads version ${CONVERSATION_SCHEMA_VERSION} (upgrade dbslm)`);
  return record;
}

export const encodeConversation = (r: ConversationRecord): Buffer => ConversationType.toBuffer(r);
export const decodeConversation = (b: Buffer): ConversationRecord => decodeVersioned<ConversationRecord>(ConversationType, 'conversation', b);
export const encodeMessage = (r: MessageRecord): Buffer => MessageType.toBuffer(r);
export const decodeMessage = (b: Buffer): MessageRecord => decodeVersioned<MessageRecord>(MessageType, 'message', b);
export const encodeCorrection = (r: CorrectionRecord): Buffer => CorrectionType.toBuffer(r);
export const decodeCorrection = (b: Buffer): CorrectionRecord => decodeVersioned<CorrectionRecord>(CorrectionType, 'correction', b);
