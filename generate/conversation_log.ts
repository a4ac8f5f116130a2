// Where conversations persist: the store (store/memory/store_conversation_log.ts: resumable by
// any process that reaches the store), or this process's memory for a model file (gone at exit).
// Appends are numbered by the caller (the next sequence number), so a retried append overwrites
// itself instead of adding a second copy.
import type { ConversationRecord, CorrectionRecord, MessageRecord } from '../schemas/conversation.js';

export interface ConversationLog {
  /** Where it lives, for messages ("the store at tcp://...", "memory"). */
  readonly where: string;
  readonly persistent: boolean;
  create(record: ConversationRecord): Promise<void>;
  /** The conversation, or undefined when there is none of that id. */
  get(id: string): Promise<ConversationRecord | undefined>;
  putMessage(id: string, seq: number, message: MessageRecord): Promise<void>;
  messages(id: string): Promise<MessageRecord[]>;
  putCorrection(id: string, seq: number, correction: CorrectionRecord): Promise<void>;
  corrections(id: string): Promise<CorrectionRecord[]>;
}

export class InMemoryConversationLog implements ConversationLog {
  readonly where = "this process's memory (not resumable: chat with --connect to keep conversations)";
  readonly persistent = false;
  private readonly records = new Map<string, { record: ConversationRecord; messages: MessageRecord[]; corrections: CorrectionRecord[] }>();

  async create(record: ConversationRecord): Promise<void> {
    this.records.set(record.id, { record, messages: [], corrections: [] });
  }
  async get(id: string): Promise<ConversationRecord | undefined> {
    return this.records.get(id)?.record;
  }
  private entry(id: string) {
    const found = this.records.get(id);
    if (!found) throw new Error(`no conversation ${id}`);
    return found;
  }
  async putMessage(id: string, seq: number, message: MessageRecord): Promise<void> {
    this.entry(id).messages[seq] = message;
  }
  async messages(id: string): Promise<MessageRecord[]> {
    return this.entry(id).messages.filter(Boolean);
  }
  async putCorrection(id: string, seq: number, correction: CorrectionRecord): Promise<void> {
    this.entry(id).corrections[seq] = correction;
  }
  async corrections(id: string): Promise<CorrectionRecord[]> {
    return this.entry(id).corrections.filter(Boolean);
  }
}
