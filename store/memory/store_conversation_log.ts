// Conversations kept in the store (conversation_keys.ts): every write is an acknowledged batch
// (durable once it returns), every read one get or one scan of the conversation's fork.
import type { ConversationLog } from '../../generate/conversation_log.js';
import { decodeConversation, decodeCorrection, decodeMessage, encodeConversation, encodeCorrection, encodeMessage, type ConversationRecord, type CorrectionRecord, type MessageRecord } from '../../schemas/conversation.js';
import type { StoreClient } from '../client/client.js';
import { conversationKey, entriesPrefix, entryKey } from './conversation_keys.js';

export class StoreConversationLog implements ConversationLog {
  readonly persistent = true;

  constructor(
    private readonly client: StoreClient,
    private readonly memory: string,
    readonly where: string,
  ) {}

  async create(record: ConversationRecord): Promise<void> {
    await this.client.batch([{ op: 'set', key: conversationKey(this.memory, record.id), value: encodeConversation(record) }]);
  }

  async get(id: string): Promise<ConversationRecord | undefined> {
    const value = await this.client.get(conversationKey(this.memory, id));
    if (value === undefined) return undefined;
    if (!(value instanceof Buffer)) throw new Error(`conversation ${id} holds a counter, not a conversation record`);
    return decodeConversation(value);
  }

  async putMessage(id: string, seq: number, message: MessageRecord): Promise<void> {
    await this.client.batch([{ op: 'set', key: entryKey(this.memory, 'msg', id, seq), value: encodeMessage(message) }]);
  }

  async messages(id: string): Promise<MessageRecord[]> {
    return this.readAll(entriesPrefix(this.memory, 'msg', id), decodeMessage);
  }

  async putCorrection(id: string, seq: number, correction: CorrectionRecord): Promise<void> {
    await this.client.batch([{ op: 'set', key: entryKey(this.memory, 'corr', id, seq), value: encodeCorrection(correction) }]);
  }

  async corrections(id: string): Promise<CorrectionRecord[]> {
    return this.readAll(entriesPrefix(this.memory, 'corr', id), decodeCorrection);
  }

  private async readAll<T>(prefix: Buffer, decode: (value: Buffer) => T): Promise<T[]> {
    const out: T[] = [];
    for await (const { value } of this.client.scan(prefix, { pageSize: 1000 })) {
      if (!(value instanceof Buffer)) throw new Error('a conversation entry holds a counter, not a record');
      out.push(decode(value));
    }
    return out;
  }
}
