// Level 2: a conversation with a model. Its messages and corrections persist in a conversation
// log (the store, or memory for a model file), so it can be resumed. What carries over from turn
// to turn:
//   - the last `turns` turns (user and agent messages) fill the session cache (session_cache.ts),
//     mixed into every answer's distribution: an n-gram model's own context is only its last
//     order - 1 words, so this is how earlier turns condition the next answer;
//   - corrections: "say RIGHT, not WRONG" (`:correct WRONG => RIGHT`), tokenized with the model's
//     tokenizer, become a logit bias over the whole vocabulary: the words of WRONG that RIGHT lacks
//     get wrongBias, the words of RIGHT get rightBias, for the next `correctionTurns` answers.
// Each answer is framed as the training pairs were (prompt_frame.ts): `|USER|: text |RESPONSE|:`.
import { randomBytes } from 'node:crypto';
import { InputError } from '../model/errors.js';
import { UNK } from '../model/vocab.js';
import { CONVERSATION_SCHEMA_VERSION, type ConversationRecord, type CorrectionRecord, type MessageRecord } from '../schemas/conversation.js';
import type { ConversationLog } from './conversation_log.js';
import type { Engine, Generated, GenerateRequest } from './engine.js';
import { visibleText, type GeneratedWord } from './generate_text.js';
import { SessionCache, type CacheParams } from './session_cache.js';
import { correctionsTemplate, summaryTemplate } from './templates.js';

export interface MemoryOptions {
  /** Turns (a user message and its answer) that fill the session cache. */
  turns: number;
  /** The session cache; null: none. The default was tuned on KJV running text (bench:cache). */
  cache: CacheParams | null;
  /** Answers a correction applies to. */
  correctionTurns: number;
  /** Natural-log bias of the corrected (wrong) words and of the right ones. */
  wrongBias: number;
  rightBias: number;
}

export const DEFAULT_MEMORY_OPTIONS: MemoryOptions = { turns: 4, cache: { weight: 0.12, decay: 0.999 }, correctionTurns: 5, wrongBias: -10, rightBias: 1.5 };

export interface NewConversation {
  id?: string;
  user: string;
  agent: string;
  model: string;
  instruction?: string;
}

export class Conversation {
  private constructor(
    private readonly engine: Engine,
    private readonly log: ConversationLog,
    readonly record: ConversationRecord,
    private readonly messageList: MessageRecord[],
    private readonly correctionList: CorrectionRecord[],
    readonly options: MemoryOptions,
  ) {}

  static async start(engine: Engine, log: ConversationLog, info: NewConversation, options: MemoryOptions = DEFAULT_MEMORY_OPTIONS): Promise<Conversation> {
    const id = info.id ?? `c-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    if (await log.get(id)) throw new InputError(`conversation ${id} already exists in ${log.where}`, undefined, undefined, `resume it with --conversation ${id}, or choose another id`);
    const record: ConversationRecord = { version: CONVERSATION_SCHEMA_VERSION, id, user: info.user, agent: info.agent, model: info.model, instruction: info.instruction ?? null, createdMs: Date.now() };
    await log.create(record);
    return new Conversation(engine, log, record, [], [], options);
  }

  static async resume(engine: Engine, log: ConversationLog, id: string, options: MemoryOptions = DEFAULT_MEMORY_OPTIONS): Promise<Conversation> {
    const record = await log.get(id);
    if (!record) throw new InputError(`no conversation ${id} in ${log.where}`, undefined, undefined, 'start a new one by leaving out --conversation, or check the id (chat prints it when a conversation starts)');
    return new Conversation(engine, log, record, await log.messages(id), await log.corrections(id), options);
  }

  get id(): string {
    return this.record.id;
  }

  /** Answers given so far. */
  get turn(): number {
    return this.messageList.filter((m) => m.role === 'agent').length;
  }

  get messages(): readonly MessageRecord[] {
    return this.messageList;
  }

  get corrections(): readonly CorrectionRecord[] {
    return this.correctionList;
  }

  /** Corrections that apply to the next answer. */
  activeCorrections(): CorrectionRecord[] {
    const turn = this.turn;
    return this.correctionList.filter((c) => turn >= c.madeAtTurn && turn < c.madeAtTurn + c.turns);
  }

  /** Records "say `right`, not `wrong`" for the next correctionTurns answers. */
  async correct(wrong: string, right: string): Promise<CorrectionRecord> {
    if (this.engine.tokenize(wrong).length === 0) throw new InputError('a correction needs the wrong words: :correct WRONG => RIGHT');
    const correction: CorrectionRecord = { version: CONVERSATION_SCHEMA_VERSION, wrong, right, madeAtTurn: this.turn, turns: this.options.correctionTurns, ms: Date.now() };
    await this.log.putCorrection(this.id, this.correctionList.length, correction);
    this.correctionList.push(correction);
    return correction;
  }

  /** The bias of the active corrections, by word id (words the model does not know are skipped). */
  correctionBias(): Map<number, number> {
    const vocab = this.engine.vocab();
    const bias = new Map<number, number>();
    for (const c of this.activeCorrections()) {
      const right = new Set(this.engine.tokenize(c.right));
      for (const w of this.engine.tokenize(c.wrong)) if (!right.has(w) && vocab.lookup(w) !== UNK) bias.set(vocab.lookup(w), (bias.get(vocab.lookup(w)) ?? 0) + this.options.wrongBias);
      for (const w of right) if (vocab.lookup(w) !== UNK) bias.set(vocab.lookup(w), (bias.get(vocab.lookup(w)) ?? 0) + this.options.rightBias);
    }
    return bias;
  }

  /** The session cache of the last `turns` turns. */
  sessionCache(): SessionCache | undefined {
    if (!this.options.cache) return undefined;
    const cache = new SessionCache(this.options.cache);
    const vocab = this.engine.vocab();
    for (const message of this.messageList.slice(-2 * this.options.turns)) {
      for (const token of message.tokens) {
        const id = vocab.lookup(token);
        if (SessionCache.caches(id, token)) cache.observe(id);
      }
    }
    return cache;
  }

  /** The answer to `text`, word by word; both messages are logged once the answer is complete. */
  async *respondStream(text: string, request: GenerateRequest = {}): AsyncGenerator<GeneratedWord> {
    const cache = this.sessionCache();
    const bias = this.correctionBias();
    const userTokens = this.engine.tokenize(text);
    const words: GeneratedWord[] = [];
    for await (const word of this.engine.stream({ ...request, prompt: text, instruction: this.record.instruction ?? request.instruction }, undefined, { cache, bias })) {
      words.push(word);
      yield word;
    }
    const answer = visibleText(words, request.stop ?? []);
    const now = Date.now();
    await this.append({ version: CONVERSATION_SCHEMA_VERSION, role: 'user', text, tokens: userTokens, ms: now });
    await this.append({ version: CONVERSATION_SCHEMA_VERSION, role: 'agent', text: answer, tokens: words.filter((w) => w.visible).map((w) => w.token), ms: now });
  }

  async respond(text: string, request: GenerateRequest = {}): Promise<Generated> {
    const words: GeneratedWord[] = [];
    for await (const word of this.respondStream(text, request)) words.push(word);
    return { text: visibleText(words, request.stop ?? []), words };
  }

  private async append(message: MessageRecord): Promise<void> {
    await this.log.putMessage(this.id, this.messageList.length, message);
    this.messageList.push(message);
  }

  /** The filled templates of this conversation (templates.ts). */
  template(kind: 'summary' | 'corrections'): string {
    const vocab = this.engine.vocab();
    const input = { record: this.record, messages: this.messageList, corrections: this.correctionList, turn: this.turn, unigramLog10: (word: string) => this.engine.unigramLog10(vocab.lookup(word), word) };
    return kind === 'summary' ? summaryTemplate(input) : correctionsTemplate(input);
  }

  /** The conversation as :history prints it: messages, and corrections where they were made. */
  historyLines(): string[] {
    const lines: string[] = [`conversation ${this.id}: ${this.record.user} with ${this.record.agent} on ${this.record.model}${this.record.instruction ? `, instruction: ${this.record.instruction}` : ''}`];
    let turn = 0;
    const correctionsAt = (t: number) => this.correctionList.filter((c) => c.madeAtTurn === t);
    for (const message of this.messageList) {
      if (message.role === 'user') for (const c of correctionsAt(turn)) lines.push(`  correction: say "${c.right}", not "${c.wrong}" (answers ${c.madeAtTurn + 1}-${c.madeAtTurn + c.turns})`);
      lines.push(`${message.role === 'user' ? this.record.user : this.record.agent}: ${message.text}`);
      if (message.role === 'agent') turn++;
    }
    for (const c of correctionsAt(turn)) lines.push(`  correction: say "${c.right}", not "${c.wrong}" (answers ${c.madeAtTurn + 1}-${c.madeAtTurn + c.turns})`);
    return lines;
  }
}
