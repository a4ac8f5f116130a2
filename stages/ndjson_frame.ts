// How one NDJSON record becomes one training sentence, as its dataset config says
// (pipeline/definition/dataset_config.ts; ../shared/corpora/kjv.pairs.config.json is the example).
// The record is framed as the text
//
//   [I: <instruction>] [C...] P: <prompt> [A...] R: <response> |END|
//
// where P and R are the config's prompt_label and response_label followed by `:` (`|USER|:`,
// `|RESPONSE|:`; a label already ending in `:` keeps just that one), I is its instruction_label
// (`|INSTRUCTION|:`) when the config names an instruction_field and the record's instruction is not
// blank (a blank one is left out, as datasets mix tasks with and without one), C are the context fields with
// `placement: before_prompt` and A the others (after the prompt, before the response), in config
// order, each the single token `TAG:token_name:value` with TAG its canonical_tag (default `|CTX|`)
// and whitespace runs in the value written `_`, so the marker stays one token as the regex
// tokenizer keeps `|CTX|:key:value` whole. The prompt and response are tokenized by the run's
// tokenizer; the labels and markers are tokens as they are, so the result equals tokenizing the
// framed text with the regex tokenizer. A record is one sentence: <s> ... |END| </s>.
//
// A field the config names that the record lacks (or holds null), a field that is not text (a
// number or boolean is written as JSON writes it; an object or list is refused), an empty context
// value, a line that is not a JSON object and a reserved token make the record bad.
import fs from 'node:fs';
import { InputError } from '../model/errors.js';
import { loadDatasetConfig, type ContextField, type DatasetConfig } from '../pipeline/definition/dataset_config.js';
import { formatProblem } from '../pipeline/definition/problems.js';
import { reservedTokenProblem } from './line_tokens.js';

export const DEFAULT_CONTEXT_TAG = '|CTX|';
export const END_MARKER = '|END|';

export type Framed = { tokens: string[] } | { bad: string };

function labelToken(label: string): string {
  return label.endsWith(':') ? label : `${label}:`;
}

function textOf(record: Record<string, unknown>, field: string): string | { bad: string } {
  const value = record[field];
  if (value === undefined || value === null) return { bad: `the record has no field "${field}", which the dataset config names` };
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return { bad: `field "${field}" is ${Array.isArray(value) ? 'a list' : 'an object'}, not text` };
}

function contextToken(record: Record<string, unknown>, c: ContextField): string | { bad: string } {
  const value = textOf(record, c.field);
  if (typeof value !== 'string') return value;
  const compact = value.trim().replace(/\s+/gu, '_');
  if (compact === '') return { bad: `context field "${c.field}" is empty` };
  return `${c.canonical_tag ?? DEFAULT_CONTEXT_TAG}:${c.token_name}:${compact}`;
}

/** The tokens of one NDJSON line framed by `config`, or why the line is bad. */
export function frameRecord(line: string, config: DatasetConfig, tokenize: (text: string) => string[]): Framed {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch (e) {
    return { bad: `not valid JSON: ${(e as Error).message}` };
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return { bad: 'not a JSON object (an NDJSON line is one record)' };
  const fields = record as Record<string, unknown>;
  const prompt = textOf(fields, config.prompt_field);
  if (typeof prompt !== 'string') return prompt;
  const response = textOf(fields, config.response_field);
  if (typeof response !== 'string') return response;
  const instruction: string[] = [];
  if (config.instruction_field !== undefined) {
    const text = textOf(fields, config.instruction_field);
    if (typeof text !== 'string') return text;
    const tokens = tokenize(text);
    if (tokens.length > 0) instruction.push(labelToken(config.instruction_label), ...tokens);
  }
  const before: string[] = [];
  const after: string[] = [];
  for (const c of config.context_fields) {
    const token = contextToken(fields, c);
    if (typeof token !== 'string') return token;
    (c.placement === 'before_prompt' ? before : after).push(token);
  }
  const promptTokens = tokenize(prompt);
  const responseTokens = tokenize(response);
  const reserved = reservedTokenProblem(instruction.slice(1)) ?? reservedTokenProblem(promptTokens) ?? reservedTokenProblem(responseTokens);
  if (reserved !== null) return { bad: reserved };
  return { tokens: [...instruction, ...before, labelToken(config.prompt_label), ...promptTokens, ...after, labelToken(config.response_label), ...responseTokens, END_MARKER] };
}

/** Loads dataset configs once per path; an invalid or unreadable one is an error naming its problems. */
export class DatasetConfigs {
  private readonly loaded = new Map<string, DatasetConfig>();

  get(file: string, usedBy: string): DatasetConfig {
    let config = this.loaded.get(file);
    if (config !== undefined) return config;
    const result = loadDatasetConfig(file, file);
    if (result.config === null) {
      const problems = result.problems.map(formatProblem).join('\n  ');
      throw new InputError(`its dataset config ${file} cannot be used:\n  ${problems}`, usedBy, undefined, fs.existsSync(file) ? 'fix the config' : 'write the config, or name another with `config:` on the input');
    }
    config = result.config;
    this.loaded.set(file, config);
    return config;
  }
}
