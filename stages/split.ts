// Stage `split`: LineBatch -> SentenceBatch. Each good line becomes one sentence of tokens, as
// in-process training sees it: text lines through the run's tokenizer (line_tokens.ts), NDJSON
// records framed by their dataset config (ndjson_frame.ts). An empty text line is a sentence with
// no tokens (<s> </s>); a blank NDJSON line is no record and is passed over. The sentence of a last
// line without a final newline gets no </s> (eos false), as lmplz.
//
// Bad lines (a reserved token, bad JSON, a missing field, and read's invalid UTF-8) are skipped and
// passed along in `bad`; with `strict` the first of them is an Observable error naming file:line
// and the reason, as `build` stops at it.
import { map } from 'rxjs';
import { InputError } from '../model/errors.js';
import type { TokenizerName } from '../model/tokenizer.js';
import type { BadLine, LineBatch, SentenceBatch } from '../schemas/pipeline.js';
import { lineTokenizer, reservedTokenProblem } from './line_tokens.js';
import { DatasetConfigs, frameRecord } from './ndjson_frame.js';
import type { Compute, Stage } from './stage.js';
import type { StageConfig } from './stage_config.js';

export interface SplitOptions {
  tokenizer: TokenizerName;
  strict: boolean;
}

export function split(options: SplitOptions): Stage<LineBatch, SentenceBatch> {
  const tokenize = lineTokenizer(options.tokenizer);
  const configs = new DatasetConfigs();
  return map((batch) => {
    const out = splitBatch(batch, tokenize, configs);
    if (options.strict && out.bad.length > 0) throw badLineError(firstBad(out.bad));
    return out;
  });
}

export function createStage(config: StageConfig, _compute: Compute): Stage<LineBatch, SentenceBatch> {
  return split({ tokenizer: config.tokenizer, strict: config.strict });
}

/** One batch's sentences; bad lines are collected, never thrown. */
export function splitBatch(batch: LineBatch, tokenize: (line: string) => string[], configs: DatasetConfigs): SentenceBatch {
  const sentences: SentenceBatch['sentences'] = [];
  const bad: BadLine[] = [...batch.bad];
  const config = batch.format === 'ndjson' ? configs.get(requireConfig(batch), batch.file) : null;
  const last = batch.lines.length - 1;
  batch.lines.forEach((line, i) => {
    const eos = !(batch.lastUnterminated && i === last);
    if (config === null) {
      const tokens = tokenize(line.text);
      const reserved = reservedTokenProblem(tokens);
      if (reserved === null) sentences.push({ offset: line.offset, tokens, eos });
      else bad.push({ where: `${batch.file}:${line.line}`, reason: reserved });
      return;
    }
    if (line.text.trim() === '') return;
    const framed = frameRecord(line.text, config, tokenize);
    if ('tokens' in framed) sentences.push({ offset: line.offset, tokens: framed.tokens, eos });
    else bad.push({ where: `${batch.file}:${line.line}`, reason: framed.bad });
  });
  return { generation: batch.generation, input: batch.input, offset: batch.offset, file: batch.file, sentences, lines: batch.lines.length + batch.bad.length, bad };
}

function requireConfig(batch: LineBatch): string {
  if (batch.config === null) throw new InputError('an NDJSON batch came without its dataset config', batch.file, undefined, 'the read task must name the config (listReadTasks finds it)');
  return batch.config;
}

function lineNumber(bad: BadLine): number {
  return Number(bad.where.slice(bad.where.lastIndexOf(':') + 1));
}

function firstBad(bad: readonly BadLine[]): BadLine {
  return bad.reduce((a, b) => (lineNumber(b) < lineNumber(a) ? b : a));
}

/** The error `strict` stops on: `file:line: reason`, the reason ending with what to do. */
export function badLineError(bad: BadLine): InputError {
  const cut = bad.where.lastIndexOf(':');
  return new InputError(`${bad.reason} (strict: true stops at the first bad line; set strict: false to skip and count bad lines)`, bad.where.slice(0, cut), lineNumber(bad));
}
