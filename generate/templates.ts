// Templates for structured concepts, filled from Level 2 rather than sampled: a summary of the
// conversation and a replay of its corrections (`:summary` and `:corrections` in chat). The
// words a summary names are the user's most informative ones under the model: ranked by
// (1 + ln of times said) times -log10 of the unigram probability, the sublinear tf-idf weighting,
// so a function word said often does not outrank a rare word said once or twice.
import type { ConversationRecord, CorrectionRecord, MessageRecord } from '../schemas/conversation.js';

export interface TemplateInput {
  record: ConversationRecord;
  messages: readonly MessageRecord[];
  corrections: readonly CorrectionRecord[];
  /** Answers so far. */
  turn: number;
  /** log10 unigram probability of a word (-Infinity when unknown); words with letters only are named. */
  unigramLog10: (word: string) => number;
}

const WORD_RE = /\p{L}/u;

/** The user's most informative words, most first ((1 + ln count) x -log10 p; ties: alphabetical). */
export function salientWords(messages: readonly MessageRecord[], unigramLog10: (word: string) => number, count = 5): string[] {
  const seen = new Map<string, number>();
  for (const m of messages) if (m.role === 'user') for (const w of m.tokens) if (WORD_RE.test(w)) seen.set(w, (seen.get(w) ?? 0) + 1);
  return [...seen]
    .filter(([w]) => Number.isFinite(unigramLog10(w)))
    .map(([w, n]) => [w, -(1 + Math.log(n)) * unigramLog10(w)] as const)
    .sort(([a, sa], [b, sb]) => sb - sa || a.localeCompare(b))
    .slice(0, count)
    .map(([w]) => w);
}

export function summaryTemplate(input: TemplateInput): string {
  const { record, messages, corrections, turn } = input;
  const users = messages.filter((m) => m.role === 'user').length;
  const topics = salientWords(messages, input.unigramLog10);
  const lines = [
    `${record.user} and ${record.agent} exchanged ${users} message${users === 1 ? '' : 's'} and ${turn} answer${turn === 1 ? '' : 's'} on ${record.model}${record.instruction ? `, under the instruction "${record.instruction}"` : ''}.`,
    topics.length > 0 ? `${record.user} spoke of: ${topics.join(', ')}.` : `${record.user} has not said anything the model knows yet.`,
  ];
  if (messages.length > 0) lines.push(`Last message: ${messages[messages.length - 1]!.role === 'user' ? record.user : record.agent}: "${messages[messages.length - 1]!.text}"`);
  lines.push(corrections.length === 0 ? 'No corrections.' : `${corrections.length} correction${corrections.length === 1 ? '' : 's'}, ${corrections.filter((c) => turn < c.madeAtTurn + c.turns).length} still applying.`);
  return lines.join('\n');
}

export function correctionsTemplate(input: TemplateInput): string {
  if (input.corrections.length === 0) return 'No corrections.';
  return input.corrections
    .map((c, i) => {
      const last = c.madeAtTurn + c.turns;
      const state = input.turn < last ? `applies to answers ${c.madeAtTurn + 1}-${last} (${last - input.turn} left)` : `applied to answers ${c.madeAtTurn + 1}-${last}, expired`;
      return `${i + 1}. say "${c.right}", not "${c.wrong}": ${state}`;
    })
    .join('\n');
}
