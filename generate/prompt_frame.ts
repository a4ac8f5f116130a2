// A prompt framed as the training data was (stages/ndjson_frame.ts): a model trained on
// prompt/response pairs saw `<s> [|INSTRUCTION|: ...] |USER|: prompt |RESPONSE|: response |END|`,
// so it answers in the response slot only when asked the same way. A plain text model (one that
// never saw the labels) continues the prompt as text.
import { InputError } from '../model/errors.js';
import { BOS, UNK } from '../model/vocab.js';
import type { VocabView } from './generate_text.js';

export type FrameMode = 'auto' | 'chat' | 'text';
export const FRAME_MODES: readonly FrameMode[] = ['auto', 'chat', 'text'];

export interface FrameLabels {
  user: string;
  response: string;
  instruction: string;
}

export const DEFAULT_LABELS: FrameLabels = { user: '|USER|:', response: '|RESPONSE|:', instruction: '|INSTRUCTION|:' };

export interface PromptParts {
  prompt: string;
  instruction?: string;
  /** `|CTX|:key:value` markers, placed before the prompt as the dataset's before_prompt contexts are. */
  contexts?: readonly string[];
}

/** Whether the model was trained on framed pairs: it knows both the user and the response label. */
export function knowsFraming(vocab: VocabView, labels: FrameLabels = DEFAULT_LABELS): boolean {
  return vocab.lookup(labels.user) !== UNK && vocab.lookup(labels.response) !== UNK;
}

/** The context ids generation starts from (oldest first, beginning with <s>). */
export function framePrompt(vocab: VocabView, tokenize: (text: string) => string[], parts: PromptParts, mode: FrameMode, labels: FrameLabels = DEFAULT_LABELS): number[] {
  const ids = (text: string) => tokenize(text).map((w) => vocab.lookup(w));
  const chat = mode === 'chat' || (mode === 'auto' && knowsFraming(vocab, labels));
  if (!chat) {
    if (parts.instruction) throw new InputError('an instruction needs a model trained on framed pairs (its vocabulary has no |USER|: and |RESPONSE|:)', undefined, undefined, 'leave out the instruction, or use a model built from an NDJSON dataset');
    return [BOS, ...ids(parts.prompt)];
  }
  const out = [BOS];
  if (parts.instruction && parts.instruction.trim() !== '') out.push(vocab.lookup(labels.instruction), ...ids(parts.instruction));
  for (const marker of parts.contexts ?? []) out.push(vocab.lookup(marker));
  out.push(vocab.lookup(labels.user), ...ids(parts.prompt), vocab.lookup(labels.response));
  return out;
}
